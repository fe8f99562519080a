#!/usr/bin/env bash
# Run the whole test suite (the README's test command calls this after setup).
# Extra arguments go to pytest. When shared/peer (Cloudflare's Miniflare simulator) sits
# beside the repo, as in CI, it is installed and started first so that
# tests/peer/test_differential.py compares edgekv with Cloudflare's own KV code.
set -euo pipefail
cd "$(dirname "$0")/.."

peer_setup="$(cd .. && pwd)/shared/peer/setup.sh"
peer_dir=""
if [ -z "${EDGEKV_PEER_URL:-}" ] && [ -f "$peer_setup" ]; then
  if peer_dir=$(bash "$peer_setup" "${PEER_HOME:-$HOME/.cache/edgekv-peer}" 2>/tmp/edgekv-peer-setup.log); then
    port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if PEER_PORT="$port" PEER_LOG=warn "$peer_dir/start.sh" >/dev/null; then
      export EDGEKV_PEER_URL="http://127.0.0.1:$port" EDGEKV_PEER_DIR="$peer_dir"
      trap '"$peer_dir/stop.sh" >/dev/null 2>&1 || true' EXIT
    else
      echo "warning: the Miniflare peer did not start; see $peer_dir/peer.log" >&2
    fi
  else
    echo "warning: installing the Miniflare peer failed; see /tmp/edgekv-peer-setup.log" >&2
  fi
fi

# Cloudflare's Python templates (npm create-cloudflare, pinned) for tests/templates.
if [ -z "${EDGEKV_C3_TEMPLATES:-}" ]; then
  if templates=$(bash scripts/c3-templates.sh 2>/tmp/edgekv-c3-templates.log); then
    export EDGEKV_C3_TEMPLATES="$templates"
  else
    echo "warning: installing create-cloudflare failed; see /tmp/edgekv-c3-templates.log" >&2
  fi
fi

# A CPython 3.12/3.13 (Debian's, unpacked into a cache folder once) for tests/templates, since
# the templates' requires-python excludes the machine's 3.11.
if [ -z "${EDGEKV_TEMPLATE_PYTHON:-}" ]; then
  if template_python=$(bash scripts/install-python.sh 2>/tmp/edgekv-install-python.log); then
    export EDGEKV_TEMPLATE_PYTHON="$template_python"
  else
    echo "warning: installing CPython 3.13 failed; see /tmp/edgekv-install-python.log" >&2
  fi
fi

# The real clients tests/acceptance/ drives (wrangler); without them those tests fail in CI.
if [ -z "${EDGEKV_WRANGLER:-}" ]; then
  if wrangler_bin=$(bash scripts/install-test-tools.sh 2>/tmp/edgekv-tools-setup.log); then
    export EDGEKV_WRANGLER="$wrangler_bin"
  else
    echo "warning: installing wrangler failed; see /tmp/edgekv-tools-setup.log" >&2
  fi
fi

.venv/bin/python -m pytest -q "$@"
