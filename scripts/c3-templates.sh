#!/usr/bin/env bash
# Install Cloudflare's Python Worker templates (the npm package create-cloudflare, pinned)
# into a cache folder, once; print the folder holding templates/*/py.
# Usage: scripts/c3-templates.sh [CACHE_DIR]   (default: $C3_HOME or ~/.cache/edgekv-c3)
set -euo pipefail
version="${C3_VERSION:-2.74.0}"
home="${1:-${C3_HOME:-$HOME/.cache/edgekv-c3}}"
dest="$home/create-cloudflare-$version"
if [ ! -f "$dest/package/templates/hello-world/py/src/entry.py" ]; then
  command -v npm >/dev/null || { echo "npm is needed to fetch create-cloudflare" >&2; exit 1; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "create-cloudflare@$version" --silent >/dev/null)
  mkdir -p "$dest"
  tar xzf "$tmp/create-cloudflare-$version.tgz" -C "$dest"
fi
echo "$dest/package/templates"
