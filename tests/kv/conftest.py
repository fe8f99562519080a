"""Fixtures for the KV conformance suite: one KV namespace per backend, frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from edgekv.clock import FakeClock
from edgekv.kv import KVNamespace
from edgekv.limits import DEFAULT_LIMITS, TESTING_LIMITS, Limits
from edgekv.storage import Store, open_store

NOW = 1000  # Miniflare's tests freeze the clock here
TIME_FUTURE = 1500

BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A storage URL for each backend under test (postgres: a schema of its own)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'kv.sqlite3'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    s = open_store(store_url, clock=clock)
    yield s
    await s.close()


@pytest.fixture
def make_kv(store: Store) -> Callable[..., KVNamespace]:
    """Factory: a namespace on the backend under test with the given limits."""

    def make(limits: Limits = TESTING_LIMITS, namespace_id: str = "ns") -> KVNamespace:
        return KVNamespace(store, namespace_id, limits=limits)

    return make


@pytest.fixture
def kv(make_kv: Callable[..., KVNamespace]) -> KVNamespace:
    """A namespace with the small testing limits (1 KiB values), like Miniflare's tests."""
    return make_kv(TESTING_LIMITS)


@pytest.fixture
def real_kv(make_kv: Callable[..., KVNamespace]) -> KVNamespace:
    """A namespace with Cloudflare's production limits (25 MiB values)."""
    return make_kv(DEFAULT_LIMITS)
