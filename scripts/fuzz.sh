#!/usr/bin/env bash
# Runs every Go fuzz target of the module briefly: FUZZTIME each (default 2s).
# Usage: scripts/fuzz.sh [FUZZTIME]     (TAGS: build tags, as in the Makefile)
set -euo pipefail
fuzztime=${1:-2s}
cd "$(dirname "$0")/.."
failed=0
count=0
targets=$(grep -rlE '^func Fuzz' --include='*_test.go' . | sort | while read -r f; do
  grep -oE '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func |$(dirname "$f") |"
done)
while read -r pkg name; do
  [ -n "$pkg" ] || continue
  count=$((count+1))
  if ! out=$(go test -tags "${TAGS:-}" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1x -timeout 5m "$pkg" 2>&1); then
    echo "FAIL fuzz $pkg $name"; echo "$out" | tail -30; failed=$((failed+1))
  else
    echo "ok   fuzz $pkg $name"
  fi
done <<< "$targets"
echo "fuzz: $count targets, $failed failed"
[ "$failed" -eq 0 ]
