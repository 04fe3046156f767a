#!/usr/bin/env bash
# Builds the clusterpool image from this checkout: the packages' dist/ and their runtime
# node_modules. Run `npm ci && npm run build` first.
#   deploy/build-image.sh [tag]            BASE=node:20-slim by default
#   BASE=clusterpool-node-base:local deploy/build-image.sh clusterpool:local
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-clusterpool:local}
base=${BASE:-node:20-slim}
for p in protocol transport pool worker-node client coordinator clusterpool; do
  [ -f "packages/$p/dist/index.js" ] || { echo "packages/$p is not built: run npm run build" >&2; exit 1; }
done
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/app/packages"
cp package.json "$stage/app/"
for p in protocol transport pool worker-node client coordinator clusterpool; do
  mkdir -p "$stage/app/packages/$p"
  cp "packages/$p/package.json" "$stage/app/packages/$p/"
  cp -r "packages/$p/dist" "$stage/app/packages/$p/dist"
done
cp -r packages/clusterpool/bin "$stage/app/packages/clusterpool/bin"
# Runtime dependencies only: leave out the build, lint and test tools.
tar -C . -c \
  --exclude='node_modules/typescript' --exclude='node_modules/@turbo' --exclude='node_modules/turbo' \
  --exclude='node_modules/prettier' --exclude='node_modules/eslint' --exclude='node_modules/@eslint' \
  --exclude='node_modules/@typescript-eslint' --exclude='node_modules/typescript-eslint' \
  --exclude='node_modules/dpdm' --exclude='node_modules/playwright-core' --exclude='node_modules/testcontainers' \
  --exclude='node_modules/ava' --exclude='node_modules/piscina' --exclude='node_modules/@types' \
  --exclude='node_modules/@clusterpool/examples' --exclude='node_modules/@clusterpool/tests' \
  --exclude='node_modules/@clusterpool/bench' --exclude='node_modules/.cache' \
  node_modules | tar -C "$stage/app" -x
cp deploy/Dockerfile "$stage/Dockerfile"
docker build -q --build-arg "BASE=$base" -t "$tag" "$stage" >/dev/null
echo "$tag"
