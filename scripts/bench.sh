#!/usr/bin/env bash
# Side-by-side benchmark: shipgate beside its peers on the same inputs, in one
# run, wall time and peak RSS from GNU time. Peers are installed from the Go
# module proxy into $BENCH_DIR/bin when missing (syft, grype, gitleaks,
# osv-scanner; Trivy is not served by the proxy). Inputs are made once and
# kept in $BENCH_DIR (default /tmp/shipgate-bench):
#   npm        a real npm project resolved by npm (1,500+ packages)
#   monorepo   200 lockfiles across ecosystems (the shared corpus, repeated)
#   nodemod    the same npm project installed: a large node_modules tree
#   debian     a debootstrap bookworm root filesystem as an image (if debootstrap works)
#   nodeimg    the node_modules tree as an image
# Usage: scripts/bench.sh [section...]   (sections: deps image secrets vulns; default all)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
B=${BENCH_DIR:-/tmp/shipgate-bench}
mkdir -p "$B/bin" "$B/out"
export PATH="$B/bin:$PATH"
sections=${*:-deps image secrets vulns}
corpus="$repo/../shared/corpus/lockfiles"

log() { printf '%s\n' "$*" >&2; }

peer() { # name module version [GOTOOLCHAIN]
  command -v "$1" >/dev/null 2>&1 && return 0
  log "bench: installing $1 $3 from the Go module proxy"
  GOBIN="$B/bin" GOTOOLCHAIN="${4:-auto}" go install "$2@$3" >"$B/out/install-$1.log" 2>&1 || log "bench: $1 did not install (see $B/out/install-$1.log)"
}

# measure LABEL CMD...: prints "LABEL seconds peakMB"
measure() {
  local label=$1; shift
  local tf="$B/out/time.$$"
  /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$B/out/$label.out" 2>"$B/out/$label.err"
  local rc=$?
  # GNU time puts "Command exited with non-zero status N" before the figures
  # when the command fails (a gate that denies exits 1): read the last line.
  read -r secs kb < <(tail -n 1 "$tf")
  printf '%-28s %8.2f s %8.0f MB  (exit %d)\n' "$label" "$secs" "$((kb/1024))" "$rc"
}

count_components() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d.get("components",[])))' "$1" 2>/dev/null || echo "?"; }

go build -tags gore2regex -trimpath -o "$B/bin/shipgate" ./cmd/shipgate || exit 2

inputs_deps() {
  if [ ! -f "$B/npm/package-lock.json" ]; then
    mkdir -p "$B/npm"
    cat > "$B/npm/package.json" <<'JSON'
{ "name": "bench", "version": "1.0.0", "private": true,
  "dependencies": { "@angular/cli": "17", "webpack": "5", "jest": "29", "eslint": "8", "@babel/core": "7",
    "typescript": "5", "next": "14", "react": "18", "react-dom": "18", "express": "4", "lodash": "4",
    "aws-sdk": "2", "@storybook/react": "7", "gatsby": "5", "puppeteer-core": "21", "mongoose": "8" } }
JSON
    (cd "$B/npm" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund >/dev/null 2>&1) || log "bench: npm resolution failed"
  fi
  if [ ! -d "$B/monorepo" ]; then
    mkdir -p "$B/monorepo"
    mapfile -t files < <(cd "$corpus" && find . -type f \( -name '*.lock' -o -name '*lock.json' -o -name '*lock.yaml' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.txt' -o -name 'Gemfile' -o -name 'composer.json' -o -name 'pyproject.toml' \) | sort)
    n=0
    while [ $n -lt 200 ]; do
      for f in "${files[@]}"; do
        [ $n -ge 200 ] && break
        d="$B/monorepo/svc$n/$(dirname "$f")"; mkdir -p "$d"; cp "$corpus/$f" "$d/"
        n=$((n+1))
      done
    done
  fi
  if [ ! -d "$B/nodemod/node_modules" ]; then
    mkdir -p "$B/nodemod" && cp "$B/npm/package.json" "$B/npm/package-lock.json" "$B/nodemod/" 2>/dev/null
    # npm install, not npm ci: a lock resolved with --package-lock-only
    # lacks other platforms' optional packages, which npm ci refuses.
    (cd "$B/nodemod" && npm install --ignore-scripts --no-audit --no-fund >/dev/null 2>&1 && rm -f package-lock.json package.json) || log "bench: npm install failed"
  fi
}

bench_deps() {
  inputs_deps
  peer syft github.com/anchore/syft/cmd/syft v1.57.0
  echo "## deps stage: SBOM of a tree (CycloneDX JSON)"
  for t in npm monorepo nodemod; do
    measure "shipgate-sbom-$t" shipgate sbom "$B/$t" -o "cyclonedx-json=$B/out/sg-$t.json" -q
    command -v syft >/dev/null && measure "syft-$t" syft scan "dir:$B/$t" -o "cyclonedx-json=$B/out/syft-$t.json" -q
    echo "  components: shipgate $(count_components "$B/out/sg-$t.json"), syft $(count_components "$B/out/syft-$t.json" 2>/dev/null)"
  done
}

bench_image() {
  command -v go >/dev/null || return
  if [ ! -f "$B/debian.tar" ] && [ -d "${DEBIAN_ROOTFS:-/tmp/bookworm-rootfs}/var/lib/dpkg" ]; then
    go run ./tools/dir2image -dir "${DEBIAN_ROOTFS:-/tmp/bookworm-rootfs}" -o "$B/debian.tar" -tag bench/debian:12
  fi
  if [ ! -f "$B/nodeimg.tar" ] && [ -d "$B/nodemod/node_modules" ] && [ -f "$B/debian.tar" ]; then
    go run ./tools/dir2image -dir "$B/nodemod" -prefix app -base "$B/debian.tar" -o "$B/nodeimg.tar" -tag bench/node:1
  fi
  peer syft github.com/anchore/syft/cmd/syft v1.57.0
  echo "## image stage (cold cache, then warm for the image sharing the base layer)"
  for t in debian nodeimg; do
    [ -f "$B/$t.tar" ] || { echo "  ($t image not available)"; continue; }
    rm -rf "$B/cache"
    measure "shipgate-image-$t-cold" shipgate sbom --image "$B/$t.tar" --cache-dir "$B/cache" -o "cyclonedx-json=$B/out/sg-img-$t.json" -q
    command -v syft >/dev/null && measure "syft-image-$t" syft scan "docker-archive:$B/$t.tar" -o "cyclonedx-json=$B/out/syft-img-$t.json" -q
    echo "  components: shipgate $(count_components "$B/out/sg-img-$t.json"), syft $(count_components "$B/out/syft-img-$t.json" 2>/dev/null)"
  done
  # A second image sharing its base layers: each base plus a small app layer
  # (a go.mod, a go.sum and a script), scanned after the base was.
  mkdir -p "$B/smallapp/srv"
  cp go.mod go.sum "$B/smallapp/srv/" && echo 'console.log("hi")' > "$B/smallapp/srv/index.js"
  for base in debian nodeimg; do
    [ -f "$B/$base.tar" ] || continue
    [ -f "$B/$base-app.tar" ] || go run ./tools/dir2image -dir "$B/smallapp" -base "$B/$base.tar" -o "$B/$base-app.tar" -tag "bench/$base-app:1"
    rm -rf "$B/cache"
    measure "shipgate-image-$base-first" shipgate sbom --image "$B/$base.tar" --cache-dir "$B/cache" -o "cyclonedx-json=/dev/null" -q
    measure "shipgate-image-$base-app-second" shipgate sbom --image "$B/$base-app.tar" --cache-dir "$B/cache" -o "cyclonedx-json=/dev/null" -q
  done
  # Peak RSS on a large image: the node image plus 720 MB of incompressible
  # files and a binary (about 1.1 GB compressed, 2 GB uncompressed).
  if [ -f "$B/nodeimg.tar" ] && [ ! -f "$B/bigimg.tar" ]; then
    mkdir -p "$B/bigdir/opt/blobs"
    for i in 1 2 3 4 5 6; do head -c 120000000 /dev/urandom > "$B/bigdir/opt/blobs/blob$i.bin"; done
    cp "$B/bin/shipgate" "$B/bigdir/opt/app-binary"
    go run ./tools/dir2image -dir "$B/bigdir" -base "$B/nodeimg.tar" -o "$B/bigimg.tar" -tag bench/big:1
  fi
  if [ -f "$B/bigimg.tar" ]; then
    rm -rf "$B/cache"
    measure "shipgate-image-bigimg-cold" shipgate sbom --image "$B/bigimg.tar" --cache-dir "$B/cache" -o "cyclonedx-json=/dev/null" -q
    command -v syft >/dev/null && measure "syft-image-bigimg" syft scan "docker-archive:$B/bigimg.tar" -o "cyclonedx-json=/dev/null" -q
  fi
}

bench_secrets() {
  peer gitleaks github.com/zricethezav/gitleaks/v8 v8.30.1
  if [ ! -d "$B/tree50k" ]; then
    log "bench: assembling a 50,000-file tree from the Go module cache and node_modules"
    mkdir -p "$B/tree50k"
    # tar copies the listed files (cpio is not on every machine); the module
    # cache's files are read-only, the copies are made writable so the tree
    # can be removed.
    (cd "$(go env GOMODCACHE)" && find . -type f \( -name '*.go' -o -name '*.md' -o -name '*.json' -o -name '*.yaml' \) -size -200k | head -40000 | tar -cf - -T - | tar -xf - -C "$B/tree50k")
    [ -d "$B/nodemod/node_modules" ] && (cd "$B/nodemod" && find node_modules -type f -size -200k | head -10000 | tar -cf - -T - | tar -xf - -C "$B/tree50k")
    chmod -R u+w "$B/tree50k"
  fi
  echo "## code stage on a $(find "$B/tree50k" -type f | wc -l)-file tree"
  measure "read-tree-once" sh -c "find '$B/tree50k' -type f -print0 | xargs -0 cat > /dev/null"
  measure "shipgate-code" shipgate scan "$B/tree50k" --stages code -o "json=$B/out/sg-code.json" -q --no-cache
  # The result cache: a first scan fills it, a re-scan of the unchanged tree reads it.
  rm -rf "$B/out/results-cache"
  measure "shipgate-code-fill-cache" shipgate scan "$B/tree50k" --stages code -o "json=$B/out/sg-code-fill.json" -q --cache-dir "$B/out/results-cache"
  measure "shipgate-code-rescan" shipgate scan "$B/tree50k" --stages code -o "json=$B/out/sg-code-rescan.json" -q --cache-dir "$B/out/results-cache"
  command -v gitleaks >/dev/null && measure "gitleaks-dir" gitleaks dir "$B/tree50k" --no-banner --exit-code 0 -r "$B/out/gitleaks.json"
  # The floor: gitleaks' detector and go/parser on every file, through the
  # engine's walk and read but none of shipgate's analysis
  # (plugins/code/floor_test.go).
  echo "## floor: the libraries alone on the same tree (wall and CPU seconds)"
  SHIPGATE_CODE_FLOOR="$B/tree50k" go test -tags gore2regex -run '^TestMeasureFloor$' -count=1 -v ./plugins/code/ 2>&1 | sed -n 's/^ *floor_test.go:[0-9]*: /  /p'
}

bench_vulns() {
  peer grype github.com/anchore/grype/cmd/grype v0.121.2
  peer osv-scanner github.com/google/osv-scanner/v2/cmd/osv-scanner v2.6.0 go1.27.4
  echo "## vulnerability matching: see 'go test -bench Match ./internal/match' (peers need their online databases, not reachable here)"
}

for s in $sections; do "bench_$s"; done
