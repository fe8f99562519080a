"""The Miniflare peer (Cloudflare's own KV simulator, docs/peer.md) as a test fixture.

``scripts/test.sh`` installs and starts the peer when it finds the peer kit (always in CI)
and exports ``EDGEKV_PEER_URL``. Without it the differential tests are skipped, except in CI,
where a missing peer is a failure.
"""

from __future__ import annotations

import os

import httpx
import pytest


@pytest.fixture(scope="session")
def peer_url() -> str:
    url = os.environ.get("EDGEKV_PEER_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("EDGEKV_PEER_URL is not set: scripts/test.sh starts the peer in CI")
        pytest.skip("no Miniflare peer running (scripts/test.sh starts one when it finds the "
                    "peer kit: set EDGEKV_PEER_SRC, see docs/peer.md)")
    try:
        httpx.get(f"{url}/ping", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"the Miniflare peer at {url} does not answer: {exc}")
    return url
