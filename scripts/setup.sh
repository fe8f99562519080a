#!/usr/bin/env bash
# Create .venv and install edgekv (editable) with its test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

# The data explorer's browser tests (tests/explorer) drive Debian's Chromium through
# Playwright (never Playwright's own browser downloads). Installed once, as root.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  if ! { apt-get install -y chromium >/dev/null 2>&1 \
         || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }; }; then
    echo "warning: could not install chromium; the explorer's browser tests will fail in CI" >&2
  fi
fi
