#!/usr/bin/env bash
# Makes clusterpool-node-base:local from this host's node binary and the libraries it links,
# for machines whose Docker engine cannot pull from a registry.
set -euo pipefail
tag=${1:-clusterpool-node-base:local}
if docker image inspect "$tag" >/dev/null 2>&1; then exit 0; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
node=$(readlink -f "$(command -v node)")
mkdir -p "$root/usr/local/bin" "$root/tmp" "$root/etc" "$root/bin"
cp "$node" "$root/usr/local/bin/node"
for l in $(ldd "$node" | grep -o '/lib[^ ]*'); do mkdir -p "$root$(dirname "$l")"; cp -L "$l" "$root$l"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'hosts: files dns' > "$root/etc/nsswitch.conf"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import - "$tag" >/dev/null
echo "$tag"
