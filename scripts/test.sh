#!/usr/bin/env bash
# Run the whole test suite (the README's test command calls this after setup).
# Extra arguments go to pytest. The Miniflare peer (Cloudflare's simulator, docs/peer.md) is
# installed and started first when its kit is found, so that tests/peer/test_differential.py
# compares edgekv with Cloudflare's own KV code. EDGEKV_PEER_SRC names the kit (the folder
# holding its setup.sh); without it, a shared/peer folder beside the repository is used (CI's
# layout), else a copy installed earlier in PEER_HOME (default ~/.cache/edgekv-peer).
set -euo pipefail
cd "$(dirname "$0")/.."
# The virtual environment to test with (scripts/test-pythons.sh names one per Python version).
venv="${EDGEKV_VENV:-.venv}"

peer_src="${EDGEKV_PEER_SRC:-$(cd .. && pwd)/shared/peer}"
peer_home="${PEER_HOME:-$HOME/.cache/edgekv-peer}"
peer_dir=""
if [ -z "${EDGEKV_PEER_URL:-}" ]; then
  if [ -f "$peer_src/setup.sh" ]; then
    if ! peer_dir=$(bash "$peer_src/setup.sh" "$peer_home" 2>/tmp/edgekv-peer-setup.log); then
      peer_dir=""
      echo "warning: installing the Miniflare peer failed; see /tmp/edgekv-peer-setup.log" >&2
    fi
  elif [ -x "$peer_home/start.sh" ] && [ -d "$peer_home/node_modules/miniflare" ]; then
    peer_dir="$peer_home"
  else
    echo "note: no Miniflare peer kit at $peer_src and none installed in $peer_home: set" \
         "EDGEKV_PEER_SRC to the kit's folder (docs/peer.md); tests/peer is skipped" \
         "(a failure when CI is set)" >&2
  fi
  if [ -n "$peer_dir" ]; then
    port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if peer_pid=$(PEER_PORT="$port" PEER_LOG=warn "$peer_dir/start.sh"); then
      export EDGEKV_PEER_URL="http://127.0.0.1:$port" EDGEKV_PEER_DIR="$peer_dir"
      # Stop this run's peer by the pid start.sh printed: stop.sh stops the one its folder's
      # peer.pid names, the latest started there, which may be a concurrent run's.
      trap 'kill "$peer_pid" 2>/dev/null || true' EXIT
    else
      echo "warning: the Miniflare peer did not start; see $peer_dir/peer.log" >&2
    fi
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

"$venv/bin/python" -m pytest -q "$@"
