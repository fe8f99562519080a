"""The KV binding over an edge cache: cacheTtl reaches the cache, cacheStatus is real, and
a dead central store gives Cloudflare's 503 error instead of a hang or a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from edgekv.clock import FakeClock
from edgekv.edge import CachedStore
from edgekv.errors import KVError
from edgekv.kv import KVNamespace
from edgekv.limits import TESTING_LIMITS
from edgekv.storage import open_store

from .conftest import SPACE, FaultyStore

Make = Callable[..., CachedStore]


def kv(store: object) -> KVNamespace:
    return KVNamespace(store, SPACE, limits=TESTING_LIMITS)  # type: ignore[arg-type]


async def test_get_with_metadata_reports_miss_hit_and_revalidate(
    make_location: Make, clock: FakeClock
) -> None:
    edge = kv(make_location())
    await edge.put("k", "v", metadata={"m": 1})
    other = kv(make_location())
    assert await other.getWithMetadata("k") == {"value": "v", "metadata": {"m": 1}, "cacheStatus": "MISS"}
    assert (await other.getWithMetadata("k"))["cacheStatus"] == "HIT"
    clock.advance(50)
    assert (await other.getWithMetadata("k"))["cacheStatus"] == "REVALIDATE"


async def test_a_cached_miss_reports_its_status(make_location: Make) -> None:
    edge = kv(make_location())
    assert await edge.getWithMetadata("nope") == {"value": None, "metadata": None, "cacheStatus": "MISS"}
    assert await edge.getWithMetadata("nope") == {"value": None, "metadata": None, "cacheStatus": "HIT"}


async def test_the_writer_reads_its_own_write_through_the_binding(make_location: Make) -> None:
    edge = kv(make_location())
    assert await edge.get("k") is None
    await edge.put("k", "v")
    assert (await edge.getWithMetadata("k"))["cacheStatus"] == "HIT"
    assert await edge.get("k") == "v"
    await edge.delete("k")
    assert await edge.get("k") is None


async def test_cache_ttl_reaches_the_edge_cache(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"old")
    edge = kv(make_location())
    assert await edge.get("k", {"cacheTtl": 600}) == "old"
    await authority.put(SPACE, "k", b"new")
    clock.advance(100)
    assert await edge.get("k", {"cacheTtl": 600}) == "old"
    assert await edge.get("k", cacheTtl=30) == "new"  # the lower TTL shortened the entry


async def test_bulk_get_passes_cache_ttl(make_location: Make, authority: FaultyStore, clock: FakeClock) -> None:
    await authority.put(SPACE, "a", b"old")
    edge = kv(make_location())
    assert await edge.get(["a", "b"], {"cacheTtl": 600}) == {"a": "old", "b": None}
    await authority.put(SPACE, "a", b"new")
    await authority.put(SPACE, "b", b"made")
    clock.advance(100)
    assert await edge.get(["a", "b"], {"cacheTtl": 600}) == {"a": "old", "b": None}
    assert await edge.get(["a", "b"], {"cacheTtl": 60}) == {"a": "new", "b": "made"}


async def test_cache_ttl_is_still_validated_over_an_edge_cache(make_location: Make) -> None:
    edge = kv(make_location())
    with pytest.raises(KVError) as caught:
        await edge.get("k", cacheTtl=10)
    assert str(caught.value) == "KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30."


async def test_list_reads_the_store_and_keeps_a_null_status(
    make_location: Make, authority: FaultyStore
) -> None:
    edge = kv(make_location())
    await authority.put(SPACE, "a", b"1")
    assert await edge.list() == {"keys": [{"name": "a"}], "list_complete": True, "cacheStatus": None}


async def test_single_node_sqlite_stays_miniflare(tmp_path: Path, clock: FakeClock) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'kv.sqlite3'}", clock=clock)
    try:
        plain = kv(store)
        await plain.put("k", "v")
        assert await plain.getWithMetadata("k", cacheTtl=30) == {"value": "v", "metadata": None, "cacheStatus": None}
        assert await plain.getWithMetadata("nope") == {"value": None, "metadata": None, "cacheStatus": None}
    finally:
        await store.close()


async def test_a_dead_store_fails_fast_with_a_kv_error(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    edge = kv(make_location())
    await edge.put("warm", "v")
    clock.advance(120)
    authority.down = True
    expected = {
        "get": "KV GET failed: 503 Service Unavailable",
        "bulk": "KV GET_BULK failed: 503 Service Unavailable",
        "put": "KV PUT failed: 503 Service Unavailable",
        "delete": "KV DELETE failed: 503 Service Unavailable",
        "list": "KV GET failed: 503 Service Unavailable",
    }
    calls = {
        "get": lambda: edge.get("cold"),
        "bulk": lambda: edge.get(["cold", "warm"]),
        "put": lambda: edge.put("k", "v"),
        "delete": lambda: edge.delete("k"),
        "list": lambda: edge.list(),
    }
    for name, call in calls.items():
        with pytest.raises(KVError) as caught:
            await call()
        assert str(caught.value) == expected[name]
        assert caught.value.status == 503
    # A cached key keeps being served, marked stale (Cloudflare's 2025 outage behaviour).
    assert await edge.getWithMetadata("warm") == {"value": "v", "metadata": None, "cacheStatus": "STALE"}
    assert await edge.get(["warm"]) == {"warm": "v"}


async def test_a_hanging_store_gives_a_503_not_a_hang(make_location: Make, authority: FaultyStore) -> None:
    import asyncio

    edge = kv(make_location(store_timeout_seconds=0.05))
    authority.hang = True
    with pytest.raises(KVError) as caught:
        await asyncio.wait_for(edge.get("k"), 5)
    assert str(caught.value) == "KV GET failed: 503 Service Unavailable"
    with pytest.raises(KVError):  # the breaker is open now: refused at once
        await asyncio.wait_for(edge.put("k", "v"), 0.01)
