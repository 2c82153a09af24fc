#!/usr/bin/env bash
# Cross-compiles release archives into dist/ and writes dist/SHA256SUMS, in
# the names the GitHub action's installer expects:
#   shipgate_<version>_<os>_<arch>.tar.gz (zip for Windows)
# Usage: scripts/dist.sh VERSION [os/arch ...]
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: scripts/dist.sh VERSION [os/arch ...]}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
v=${version#v}
mkdir -p dist
rm -f dist/SHA256SUMS dist/shipgate_"$v"_*
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
for t in "${targets[@]}"; do
  os=${t%/*}; arch=${t#*/}
  work=$(mktemp -d)
  exe=shipgate; [ "$os" = windows ] && exe=shipgate.exe
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -tags "${TAGS:-gore2regex}" -trimpath \
    -ldflags "-s -w -X main.version=$version" -o "$work/$exe" ./cmd/shipgate
  cp LICENSE README.md "$work/" 2>/dev/null || cp README.md "$work/"
  touch -d "@$epoch" "$work"/*
  name="shipgate_${v}_${os}_${arch}"
  if [ "$os" = windows ]; then
    (cd "$work" && zip -q -X "../$name.zip" ./* && mv "../$name.zip" "$OLDPWD/dist/")
  else
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$work" -cf - . | gzip -n > "dist/$name.tar.gz"
  fi
  rm -rf "$work"
done
(cd dist && sha256sum shipgate_"$v"_* > SHA256SUMS)
cat dist/SHA256SUMS
