"""EdgeCache: the byte bound and the local SQLite tier for large values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgekv.edge import MISS, CachedStore, DiskTier, EdgeCache
from edgekv.edge.cache import ENTRY_OVERHEAD_BYTES
from edgekv.storage import Record

from .conftest import NOW, SPACE, FaultyStore

Make = Callable[..., CachedStore]


async def test_large_values_live_in_the_sqlite_tier(
    make_location: Make, authority: FaultyStore, tmp_path: Path
) -> None:
    big = bytes(range(256)) * 400  # 100 KiB
    await authority.put(SPACE, "big", big, metadata='{"a":1}')
    await authority.put(SPACE, "small", b"s")
    cache = EdgeCache(max_bytes=10_000, disk=DiskTier(tmp_path / "edge.sqlite3"), disk_threshold_bytes=1000)
    here = make_location(cache=cache)
    assert (await here.get_with_status(SPACE, "big"))[1] == MISS
    entry = cache.peek(SPACE, "big")
    assert entry is not None and entry.on_disk and entry.record is not None and entry.record.value is None
    assert cache.bytes_used < 1000  # only the index entry is in memory
    assert cache.disk_bytes_used == len(big)
    record, status = await here.get_with_status(SPACE, "big")
    assert status == "HIT" and record == Record("big", big, None, '{"a":1}')
    assert (await here.get_many(SPACE, ["big", "small"]))["big"].value == big
    assert len(authority.reads) == 2  # big once, small once


async def test_the_disk_tier_has_its_own_byte_bound(
    make_location: Make, authority: FaultyStore, tmp_path: Path
) -> None:
    for i in range(5):
        await authority.put(SPACE, f"b{i}", bytes([i]) * 5000)
    cache = EdgeCache(
        max_bytes=100_000, disk=DiskTier(tmp_path / "edge.sqlite3"), disk_threshold_bytes=1000,
        max_disk_bytes=12_000,
    )
    here = make_location(cache=cache)
    for i in range(5):
        assert (await here.get(SPACE, f"b{i}")).value == bytes([i]) * 5000  # type: ignore[union-attr]
    assert cache.disk_bytes_used <= 12_000
    assert [cache.peek(SPACE, f"b{i}") is not None for i in range(5)] == [False, False, False, True, True]
    authority.reads.clear()
    assert (await here.get(SPACE, "b0")).value == bytes([0]) * 5000  # type: ignore[union-attr]
    assert authority.reads == [("b0",)]


async def test_memory_is_charged_for_key_value_metadata_and_overhead() -> None:
    cache = EdgeCache(max_bytes=10_000)
    await cache.store(SPACE, "key", Record("key", b"12345", None, '{"m":1}'), None, 60, NOW)
    assert cache.bytes_used == 3 + 5 + 7 + ENTRY_OVERHEAD_BYTES
    await cache.store(SPACE, "key", None, None, 60, NOW)  # replaced by a cached miss
    assert cache.bytes_used == 3 + ENTRY_OVERHEAD_BYTES
    assert cache.discard(SPACE, "key") and cache.bytes_used == 0


async def test_notices_keep_older_answers_out() -> None:
    cache = EdgeCache()
    since = cache.tick
    cache.note_change(SPACE, "k", 7)
    assert not cache.admits(SPACE, "k", 6, since)  # read before the change: older
    assert cache.admits(SPACE, "k", 7, since)
    assert not cache.admits(SPACE, "k", None, since)  # no version: a notice came since
    assert cache.admits(SPACE, "k", None, cache.tick)
    assert cache.admits(SPACE, "other", None, since)
