"""The KV conformance suite (tests/kv) run once more, with every namespace seen through one
location's edge cache over each real backend. One location reads its own writes, so every
case must hold as it does without the cache, except that ``getWithMetadata`` reports a real
``cacheStatus`` where Miniflare reports ``null``: ``StatusCheckingKV`` checks that status is
one of the edge's values, then blanks it so the rest of each case compares unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from edgekv.clock import FakeClock
from edgekv.edge import HIT, MISS, REVALIDATE, STALE, CachedStore
from edgekv.js import undefined
from edgekv.kv import KVNamespace
from edgekv.limits import DEFAULT_LIMITS, TESTING_LIMITS, Limits
from edgekv.storage import Store, open_store

from ...kv.conftest import NOW

EDGE_STATUSES = {HIT, MISS, REVALIDATE, STALE}


class StatusCheckingKV(KVNamespace):
    """Checks each single-key ``getWithMetadata`` status, then reports ``None`` as the
    conformance cases (written for Miniflare) expect."""

    async def getWithMetadata(self, key: Any = undefined, type_or_options: Any = undefined, /, **options: Any) -> Any:
        result = await super().getWithMetadata(key, type_or_options, **options)
        if not isinstance(key, (list, tuple)):
            assert result["cacheStatus"] in EDGE_STATUSES, result
            result["cacheStatus"] = None
        return result

    get_with_metadata = getWithMetadata


@pytest.fixture(params=["memory", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'kv.sqlite3'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    edge = CachedStore(open_store(store_url, clock=clock))
    yield edge
    await edge.close()


@pytest.fixture
def make_kv(store: Store) -> Callable[..., KVNamespace]:
    def make(limits: Limits = TESTING_LIMITS, namespace_id: str = "ns") -> KVNamespace:
        return StatusCheckingKV(store, namespace_id, limits=limits)

    return make


@pytest.fixture
def kv(make_kv: Callable[..., KVNamespace]) -> KVNamespace:
    return make_kv(TESTING_LIMITS)


@pytest.fixture
def real_kv(make_kv: Callable[..., KVNamespace]) -> KVNamespace:
    return make_kv(DEFAULT_LIMITS)
