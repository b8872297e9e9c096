#!/bin/sh
# Keeps, in the node_modules folder given, only the native binaries of the platform and architecture this
# machine runs on (the image's): onnxruntime-node and webgpu ship every OS and CPU (~290 MB of which the
# image uses ~65). Fails when the binding the image needs is not there, so a build cannot half-succeed.
set -eu
modules=${1:-node_modules}
platform=$(node -p process.platform)
arch=$(node -p process.arch)
ort="$modules/onnxruntime-node/bin/napi-v6"
for dir in "$ort"/*/*; do
  [ "$dir" = "$ort/$platform/$arch" ] || rm -rf "$dir"
done
find "$ort" -mindepth 1 -maxdepth 1 -type d -empty -delete
if [ ! -f "$ort/$platform/$arch/onnxruntime_binding.node" ]; then
  echo "keep-own-platform: onnxruntime-node has no binding for $platform/$arch" >&2
  exit 1
fi
if [ -d "$modules/webgpu/dist" ]; then
  for dir in "$modules"/webgpu/dist/*; do
    [ "$dir" = "$modules/webgpu/dist/$platform-$arch" ] || rm -rf "$dir"
  done
fi
# The runtime loads: prove it here rather than at the first request.
(cd "$modules/.." && node -e "require('onnxruntime-node').listSupportedBackends()")
echo "keep-own-platform: kept $platform/$arch"
