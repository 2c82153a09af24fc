#!/usr/bin/env bash
# Installs the shipgate binary for this runner from the GitHub release that
# matches the action's ref (or SHIPGATE_VERSION), verified against the
# release's SHA256SUMS. Prints installed=true|false to GITHUB_OUTPUT; when
# false, the calling action builds from its own source with setup-go.
#
# Env: SHIPGATE_VERSION (vX.Y.Z, optional), ACTION_REF (github.action_ref),
#      RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT.
set -euo pipefail

version=${SHIPGATE_VERSION:-}
if [ -z "$version" ] && [[ "${ACTION_REF:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version=$ACTION_REF
fi
dest="${RUNNER_TEMP:-/tmp}/shipgate/bin"
mkdir -p "$dest"
out=${GITHUB_OUTPUT:-/dev/null}

if [ -z "$version" ]; then
  # Pinned by commit SHA or a branch: no release to match, build from source.
  echo "shipgate: no release tag for ref '${ACTION_REF:-}': building from source"
  echo "installed=false" >> "$out"
  echo "bin=$dest" >> "$out"
  exit 0
fi

case "${RUNNER_OS:-Linux}" in
  Linux) os=linux ;; macOS) os=darwin ;; Windows) os=windows ;;
  *) echo "shipgate: unsupported runner OS ${RUNNER_OS}" >&2; exit 1 ;;
esac
case "${RUNNER_ARCH:-X64}" in
  X64) arch=amd64 ;; ARM64) arch=arm64 ;;
  *) echo "shipgate: unsupported runner architecture ${RUNNER_ARCH}" >&2; exit 1 ;;
esac
ext=tar.gz; [ "$os" = windows ] && ext=zip
asset="shipgate_${version#v}_${os}_${arch}.${ext}"
base="${SHIPGATE_RELEASE_BASE:-https://github.com/shipgate/shipgate/releases/download}/${version}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() { curl --fail --silent --show-error --location --retry 3 --retry-all-errors -o "$2" "$1"; }
if ! fetch "$base/$asset" "$tmp/$asset" || ! fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS"; then
  echo "shipgate: could not download release $version: building from source"
  echo "installed=false" >> "$out"
  echo "bin=$dest" >> "$out"
  exit 0
fi
want=$(awk -v f="$asset" '$2 == f || $2 == "*"f {print $1}' "$tmp/SHA256SUMS")
if [ -z "$want" ]; then
  echo "shipgate: $asset is not listed in SHA256SUMS: refusing to install" >&2
  exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
  got=$(sha256sum "$tmp/$asset" | awk '{print $1}')
else
  got=$(shasum -a 256 "$tmp/$asset" | awk '{print $1}')
fi
if [ "$got" != "$want" ]; then
  echo "shipgate: checksum mismatch for $asset (got $got, want $want): refusing to install" >&2
  exit 1
fi
if [ "$ext" = zip ]; then unzip -q -o "$tmp/$asset" -d "$dest"; else tar -xzf "$tmp/$asset" -C "$dest"; fi
echo "$dest" >> "${GITHUB_PATH:-/dev/null}"
echo "installed=true" >> "$out"
echo "bin=$dest" >> "$out"
echo "shipgate: installed $version ($os/$arch, sha256 $got)"
