# syntax=docker/dockerfile:1
# Sluice: an ONNX model as a SageMaker batch-transform container.
#   docker build -t sluice .
#   docker run -p 8080:8080 -v "$PWD/my-model:/opt/ml/model:ro" sluice serve
# The CPU backend needs nothing more; the WebGPU backend uses the host's GPU driver, mounted by the
# NVIDIA container toolkit (`docker run --gpus all ...`): no driver is installed in the image.

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /build
# onnxruntime-node's optional CUDA download is never wanted: its CPU and WebGPU binaries come from npm.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY codecs ./codecs
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --ignore-scripts

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production
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
ENTRYPOINT ["node", "/opt/sluice/dist/src/cli.js"]
