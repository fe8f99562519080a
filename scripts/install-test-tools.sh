#!/usr/bin/env bash
# Install the real clients the acceptance tests drive (tests/acceptance/): wrangler, pinned to
# the newest 4.x that runs on Node 20, into ${EDGEKV_TOOLS:-$HOME/.cache/edgekv-tools}.
# Idempotent: skipped when that version is already there. Needs only the npm registry.
# Prints the path of the wrangler executable (scripts/test.sh exports it as EDGEKV_WRANGLER).
set -euo pipefail
version="4.86.0"
dest="${EDGEKV_TOOLS:-$HOME/.cache/edgekv-tools}/wrangler-$version"
bin="$dest/node_modules/.bin/wrangler"
if [ ! -x "$bin" ]; then
  command -v npm >/dev/null || { echo "npm is needed to install wrangler" >&2; exit 1; }
  mkdir -p "$dest"
  [ -f "$dest/package.json" ] || echo '{"name": "edgekv-test-tools", "private": true}' > "$dest/package.json"
  npm install --prefix "$dest" --no-audit --no-fund --save-exact "wrangler@$version" >&2
fi
echo "$bin"
