#!/bin/bash
# `npm run test:image`: builds the Dockerfile, unchanged, with whichever of docker, podman or buildah this
# machine has, and runs the platform's checks against the image (check-image.sh).
#
# The base image (node:20.20.2-bookworm-slim) comes from, in order: BASE_IMAGE_TAR (a `docker save`
# archive, for offline builders), the local image store, a pull; with buildah and no registry, a stand-in
# built from Debian's packages and the npm registry (build-base.sh, as root).
# Exit status: 0 the image passed, 1 it failed a check or did not build, 2 this machine cannot build it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
W=${SLUICE_IMAGE_WORK:-${TMPDIR:-/tmp}/sluice-image}
BASE=node:20.20.2-bookworm-slim
TAG=localhost/sluice:test
CA=${NPM_CA:-/etc/ssl/certs/ca-certificates.crt}
mkdir -p "$W"
cannot() { echo "test:image: $*" >&2; exit 2; }

if command -v docker > /dev/null && docker info > /dev/null 2>&1; then
  BUILD=docker RUN=docker
elif command -v podman > /dev/null; then
  RUN=podman
  BUILD=$(command -v buildah > /dev/null && echo buildah || echo podman)
else
  cannot "no docker, podman or buildah on this machine"
fi
echo "test:image: building with $BUILD, running with $RUN"

if [ -n "${BASE_IMAGE_TAR:-}" ]; then "$RUN" load -i "$BASE_IMAGE_TAR" > /dev/null; fi
if ! "$RUN" image inspect "$BASE" > /dev/null 2>&1 && ! "$RUN" pull -q "$BASE" > /dev/null 2>&1; then
  [ "$BUILD" = buildah ] && command -v mmdebstrap > /dev/null && [ "$(id -u)" = 0 ] ||
    cannot "no $BASE image and no registry; give one with BASE_IMAGE_TAR=<docker save archive>"
  "$HERE/build-base.sh" "$W/base" > "$W/build-base.log" 2>&1 || cannot "could not build a stand-in base image (see $W/build-base.log)"
fi

# The build context: the working tree as it is, without local build outputs (.dockerignore filters it).
CTX="$W/context"
rm -rf "$CTX" && mkdir -p "$CTX"
tar -C "$ROOT" --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -C "$CTX" -xf -
secret=()
# The CA bundle npm should trust, as a build secret (needed behind a TLS-intercepting proxy; harmless otherwise).
[ -s "$CA" ] && secret=(--secret "id=npm_ca,src=$CA")
case "$BUILD" in
  buildah) build=(buildah bud --pull=never --layers "${secret[@]}" -t "$TAG")
    command -v runc > /dev/null && build+=(--runtime runc) ;;
  podman) build=(podman build --pull=never "${secret[@]}" -t "$TAG") ;;
  docker) build=(docker build "${secret[@]}" -t "$TAG") ;;
esac
if ! (cd "$CTX" && "${build[@]}" .) > "$W/build-image.log" 2>&1; then
  tail -30 "$W/build-image.log"
  echo "test:image: the Dockerfile did not build (see $W/build-image.log)" >&2
  exit 1
fi
"$HERE/check-image.sh" "$RUN" "$TAG" "$W/checks"
