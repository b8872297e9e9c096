# Sluice: an ONNX model as a SageMaker batch-transform container.
#   docker build -t sluice .
#   docker run -p 8080:8080 -v "$PWD/my-model:/opt/ml/model:ro" sluice serve
# The CPU backend needs nothing more. The WebGPU backend (SLUICE_BACKEND=webgpu or auto) reaches the
# host's GPU through the Vulkan loader installed below; the driver itself is never in the image: the
# NVIDIA container toolkit mounts the host driver's Vulkan ICD when the container gets a GPU with the
# "graphics" capability (set below), e.g.
#   docker run --gpus all -e SLUICE_BACKEND=webgpu -p 8080:8080 -v "$PWD/my-model:/opt/ml/model:ro" sluice serve

#
# Behind a TLS-intercepting proxy, give npm the proxy's CA as a build secret (never stored in a layer):
#   docker build --secret id=npm_ca,src=/path/to/proxy-ca.pem -t sluice .
#   buildah bud --secret id=npm_ca,src=/path/to/proxy-ca.pem -t sluice .

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /build
# onnxruntime-node's optional CUDA download is never wanted: its CPU and WebGPU binaries come from npm.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
# `npm ls` fails the build when npm ci exited 0 with an incomplete tree (seen behind a TLS proxy).
RUN --mount=type=secret,id=npm_ca,required=false \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca npm_config_cafile=/run/secrets/npm_ca; fi \
 && npm ci --ignore-scripts \
 && npm ls --all > /dev/null
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY codecs ./codecs
COPY scripts/image/keep-own-platform.sh ./scripts/image/
# The project's own compilers (never `npx tsc`, which may fetch an unrelated package named tsc): TypeScript,
# then AssemblyScript for the float printer's WebAssembly; then production dependencies only, and only
# this platform's native binaries.
RUN node_modules/.bin/tsc -p tsconfig.build.json \
 && npm run build:wasm \
 && npm prune --omit=dev --ignore-scripts \
 && npm ls --omit=dev --all > /dev/null \
 && sh scripts/image/keep-own-platform.sh node_modules

FROM node:20.20.2-bookworm-slim AS runtime
# The Vulkan loader only (a few hundred KB), which Dawn opens to find a GPU: not a driver.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvulkan1 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics
WORKDIR /opt/sluice
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY --from=build /build/dist/codecs ./dist/codecs
COPY models/default ./models/default
# SageMaker mounts the model read-only at /opt/ml/model; the server needs no write access anywhere.
USER node
EXPOSE 8080
# `docker run IMAGE serve` starts the server; any other command prints usage and exits non-zero.
# Each thread collects its own small heap (--single-threaded-gc): V8's helper threads for concurrent
# marking cost more than they save in a server that already runs a thread per core; the main thread,
# which receives every body, skips full collections below 64 MB (README, Threads).
ENTRYPOINT ["node", "--single-threaded-gc", "--initial-old-space-size=64", "/opt/sluice/dist/src/cli.js"]
