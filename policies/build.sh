#!/bin/sh
# Builds the built-in policies (policies/<name>/main.go, written with sdk/go)
# into policies/wasm/<name>.wasm as reactor-shape modules. The build is
# reproducible: fixed flags, -trimpath, no VCS stamping, so a rebuild of the
# same sources with the same Go version is byte-identical (policies_test.go
# checks that the committed modules are not stale).
set -eu
cd "$(dirname "$0")"
out=${1:-wasm}
mkdir -p "$out"
for dir in default licenses image-hardening sbom-completeness; do
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS= \
		go build -trimpath -buildvcs=false -buildmode=c-shared -ldflags='-s -w -buildid=' \
		-o "$out/$dir.wasm" "./$dir"
done
