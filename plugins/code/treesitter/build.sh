#!/usr/bin/env bash
# Builds treesitter.wasm: tree-sitter's C runtime, the grammars below and
# shim/sg.c compiled to a WASI reactor with clang, lld and wasi-libc
# (Debian 12: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32).
#
# The C sources come from the Go modules of tree-sitter and its grammars,
# fetched with `go mod download` (the module cache first; GOPROXY=off keeps
# it offline). Usage: build.sh [OUTPUT] (default: treesitter.wasm beside
# this script). The output is byte-for-byte reproducible with the same clang.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/treesitter.wasm}"
CLANG="${CLANG:-clang}"

# Pinned sources: module@version.
RUNTIME=github.com/tree-sitter/go-tree-sitter@v0.25.0
PYTHON=github.com/tree-sitter/tree-sitter-python@v0.23.6
JAVASCRIPT=github.com/tree-sitter/tree-sitter-javascript@v0.23.1
TYPESCRIPT=github.com/tree-sitter/tree-sitter-typescript@v0.23.2
JAVA=github.com/tree-sitter/tree-sitter-java@v0.23.5

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

moddir() {
	# Outside any module, so that go.mod is never touched.
	(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$1") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

rt="$(moddir "$RUNTIME")"
py="$(moddir "$PYTHON")"
js="$(moddir "$JAVASCRIPT")"
ts="$(moddir "$TYPESCRIPT")"
java="$(moddir "$JAVA")"
for d in "$rt" "$py" "$js" "$ts" "$java"; do
	[ -n "$d" ] && [ -d "$d" ] || { echo "build.sh: a source module is missing (go mod download failed)" >&2; exit 1; }
done

CFLAGS=(--target=wasm32-wasi -O2 -std=c11 -fvisibility=hidden -ffile-prefix-map="$(go env GOMODCACHE)=/mod"
	-fno-ident -Wno-unused-but-set-variable -D_POSIX_C_SOURCE=200112L -D_DEFAULT_SOURCE -DHAVE_ENDIAN_H -DNDEBUG)

cc() { # cc OUT SRC [extra flags...]
	local o="$1" s="$2"
	shift 2
	"$CLANG" "${CFLAGS[@]}" "$@" -c "$s" -o "$work/$o"
}

jobs=(
	"lib.o $rt/src/lib.c -I$rt/include -I$rt/src"
	"sg.o $here/shim/sg.c -I$rt/include"
	"py_parser.o $py/src/parser.c -I$py/src"
	"py_scanner.o $py/src/scanner.c -I$py/src"
	"js_parser.o $js/src/parser.c -I$js/src"
	"js_scanner.o $js/src/scanner.c -I$js/src"
	"ts_parser.o $ts/typescript/src/parser.c -I$ts/typescript/src"
	"ts_scanner.o $ts/typescript/src/scanner.c -I$ts/typescript/src"
	"tsx_parser.o $ts/tsx/src/parser.c -I$ts/tsx/src"
	"tsx_scanner.o $ts/tsx/src/scanner.c -I$ts/tsx/src"
	"java_parser.o $java/src/parser.c -I$java/src"
)
# Two at a time (the machines have 2 cores); any failure fails the build.
pids=()
for j in "${jobs[@]}"; do
	# shellcheck disable=SC2086 # a job is "OUT SRC FLAGS", no spaces inside
	cc $j &
	pids+=($!)
	if [ "${#pids[@]}" -ge 2 ]; then
		wait "${pids[0]}"
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do wait "$p"; done

exports=(sg_alloc sg_free sg_error_type sg_error_offset sg_query_new sg_query_delete sg_query_info sg_run)
ldflags=(--target=wasm32-wasi -mexec-model=reactor -Wl,--strip-all -Wl,-z,stack-size=1048576)
for e in "${exports[@]}"; do ldflags+=("-Wl,--export=$e"); done

"$CLANG" "${ldflags[@]}" "$work"/*.o -o "$work/out.wasm"
mv "$work/out.wasm" "$out"
