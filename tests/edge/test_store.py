"""CachedStore: Workers KV's edge contract (docs/edge-cache.md).

Each test runs against the real memory:// and sqlite:/// stores as the central authority,
with a fake clock; "locations" are separate CachedStores over that one authority.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from edgekv.clock import FakeClock
from edgekv.edge import HIT, MISS, REVALIDATE, STALE, CachedStore, EdgeCache
from edgekv.errors import StoreUnavailable
from edgekv.storage import Record

from .conftest import NOW, SPACE, FaultyStore

Make = Callable[..., CachedStore]


async def value(location: CachedStore, key: str, cache_ttl: float | None = None) -> tuple[bytes | None, str]:
    record, status = await location.get_with_status(SPACE, key, cache_ttl)
    return (None if record is None else record.value), status


# -- the TTL contract ---------------------------------------------------------------------


async def test_miss_then_hit_reads_the_store_once(make_location: Make, authority: FaultyStore) -> None:
    await authority.put(SPACE, "k", b"v1")
    here = make_location()
    assert await value(here, "k") == (b"v1", MISS)
    assert await value(here, "k") == (b"v1", HIT)
    assert authority.reads == [("k",)]


async def test_other_locations_see_a_write_within_the_default_60s(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"old")
    reader, writer = make_location(), make_location()
    assert await value(reader, "k") == (b"old", MISS)
    await writer.put(SPACE, "k", b"new")
    clock.advance(59.9)
    assert await value(reader, "k") == (b"old", HIT)  # allowed: within the reader's 60 s
    clock.advance(0.1)
    assert await value(reader, "k") == (b"new", MISS)  # never later than the TTL


async def test_cache_ttl_sets_how_long_the_reader_keeps_an_entry(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"old")
    reader = make_location()
    await value(reader, "k", 300)
    await authority.put(SPACE, "k", b"new")
    clock.advance(200)
    assert await value(reader, "k", 300) == (b"old", HIT)
    clock.advance(100)
    assert await value(reader, "k", 300) == (b"new", MISS)


async def test_a_lower_cache_ttl_on_a_later_read_shortens_the_entry(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"old")
    reader = make_location()
    await value(reader, "k", 300)
    await authority.put(SPACE, "k", b"new")
    clock.advance(45)
    assert await value(reader, "k", 300) == (b"old", HIT)
    assert await value(reader, "k", 30) == (b"new", MISS)  # 45 s old > 30 s: refetched


async def test_a_higher_cache_ttl_does_not_extend_an_entry(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"old")
    reader = make_location()
    await value(reader, "k", 30)
    await authority.put(SPACE, "k", b"new")
    clock.advance(31)
    assert await value(reader, "k", 3600) == (b"new", MISS)


async def test_misses_are_cached_too(make_location: Make, authority: FaultyStore, clock: FakeClock) -> None:
    reader = make_location()
    assert await value(reader, "k") == (None, MISS)
    await authority.put(SPACE, "k", b"created")
    clock.advance(30)
    assert await value(reader, "k") == (None, HIT)  # KV: creation is as slow to appear as a change
    clock.advance(30)
    assert await value(reader, "k") == (b"created", MISS)
    assert authority.reads == [("k",), ("k",)]


async def test_expiration_always_wins_over_cache_ttl(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"v", expiration=NOW + 60)
    reader = make_location()
    assert await value(reader, "k", 3600) == (b"v", MISS)
    clock.set(NOW + 59)
    assert await value(reader, "k", 3600) == (b"v", HIT)
    clock.set(NOW + 60)
    assert await value(reader, "k", 3600) == (None, MISS)


async def test_get_many_reads_only_what_the_cache_lacks_in_one_call(
    make_location: Make, authority: FaultyStore
) -> None:
    for key in ("a", "b", "c"):
        await authority.put(SPACE, key, key.encode())
    here = make_location()
    await here.get(SPACE, "a")
    found = await here.get_many(SPACE, ["a", "b", "c", "nope"], cache_ttl=60)
    assert {k: r.value for k, r in found.items()} == {"a": b"a", "b": b"b", "c": b"c"}
    assert authority.reads == [("a",), ("b", "c", "nope")]
    assert (await here.get_many(SPACE, ["b", "nope"])).keys() == {"b"}  # all from the cache
    assert len(authority.reads) == 2


# -- writes -------------------------------------------------------------------------------


async def test_read_your_writes_in_the_writing_location(
    make_location: Make, authority: FaultyStore
) -> None:
    await authority.put(SPACE, "k", b"old")
    here = make_location()
    await value(here, "k")
    await here.put(SPACE, "k", b"new", metadata='{"m":1}')
    assert await value(here, "k") == (b"new", HIT)
    assert (await authority.get(SPACE, "k")) == Record("k", b"new", None, '{"m":1}')
    await here.delete(SPACE, "k")
    assert await value(here, "k") == (None, HIT)
    assert authority.reads == [("k",), ("k",)]  # only the first read and the check above


async def test_a_write_batch_forgets_its_keys_here(make_location: Make, authority: FaultyStore) -> None:
    await authority.put(SPACE, "a", b"old")
    here = make_location()
    await value(here, "a")
    await value(here, "b")
    await here.write_batch(SPACE, [Record("a", b"A"), Record("b", b"B")])
    assert await value(here, "a") == (b"A", MISS)
    assert await value(here, "b") == (b"B", MISS)


async def test_a_read_that_started_before_a_local_write_does_not_undo_it(
    make_location: Make, authority: FaultyStore
) -> None:
    await authority.put(SPACE, "k", b"old")
    here = make_location()
    authority.gate = asyncio.Event()
    reading = asyncio.create_task(here.get(SPACE, "k"))
    await asyncio.sleep(0.01)  # the read has the old value in transit
    await here.put(SPACE, "k", b"new")
    authority.gate.set()
    assert (await reading).value == b"old"  # that reader asked first: it may see the old value
    assert await value(here, "k") == (b"new", HIT)  # but it must not replace the write here


# -- coalescing and background refresh ----------------------------------------------------


async def test_concurrent_misses_on_one_key_make_one_store_read(
    make_location: Make, authority: FaultyStore
) -> None:
    await authority.put(SPACE, "k", b"v")
    here = make_location()
    authority.gate = asyncio.Event()
    readers = [asyncio.create_task(value(here, "k")) for _ in range(50)]
    await asyncio.sleep(0.01)
    authority.gate.set()
    results = await asyncio.gather(*readers)
    assert results == [(b"v", MISS)] * 50
    assert authority.reads == [("k",)]
    assert here.metrics.coalesced == 49


async def test_a_cancelled_reader_does_not_cancel_the_shared_read(
    make_location: Make, authority: FaultyStore
) -> None:
    await authority.put(SPACE, "k", b"v")
    here = make_location()
    authority.gate = asyncio.Event()
    first = asyncio.create_task(value(here, "k"))
    second = asyncio.create_task(value(here, "k"))
    await asyncio.sleep(0.01)
    first.cancel()
    authority.gate.set()
    assert await second == (b"v", MISS)
    assert authority.reads == [("k",)]


async def test_popular_keys_are_refreshed_before_they_expire(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"old")
    here = make_location()
    await value(here, "k")
    await value(here, "k")  # read twice: popular
    await authority.put(SPACE, "k", b"new")
    clock.advance(50)  # inside the last quarter of 60 s
    assert await value(here, "k") == (b"old", REVALIDATE)
    await asyncio.sleep(0.01)  # the refresh runs in the background
    assert await value(here, "k") == (b"new", HIT)
    clock.advance(59)  # the refreshed entry's TTL counts from the refresh
    assert (await value(here, "k"))[0] == b"new"
    assert here.metrics.revalidations >= 1


async def test_unpopular_keys_are_not_refreshed(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"v")
    here = make_location()
    await value(here, "k")
    clock.advance(50)
    assert await value(here, "k") == (b"v", HIT)
    assert here.metrics.revalidations == 0


# -- bounds -------------------------------------------------------------------------------


async def test_the_cache_is_bounded_by_bytes_least_recently_used_first(
    make_location: Make, authority: FaultyStore
) -> None:
    for i in range(10):
        await authority.put(SPACE, f"k{i}", b"x" * 1000)
    here = make_location(cache=EdgeCache(max_bytes=4100))
    for i in range(3):
        await value(here, f"k{i}")
    await value(here, "k0")  # k0 is now the most recently used
    await value(here, "k3")  # 4 x ~1350 bytes > 4100: the least recent (k1) goes
    assert here.cache.bytes_used <= 4100
    assert here.cache.peek(SPACE, "k1") is None
    assert here.cache.peek(SPACE, "k0") is not None
    assert here.cache.evictions == 1
    for i in range(10):
        await value(here, f"k{i}")
    assert here.cache.bytes_used <= 4100
    assert len(here.cache) == 3


async def test_a_value_larger_than_the_cache_is_served_but_not_kept(
    make_location: Make, authority: FaultyStore
) -> None:
    await authority.put(SPACE, "big", b"x" * 5000)
    here = make_location(cache=EdgeCache(max_bytes=4000))
    assert await value(here, "big") == (b"x" * 5000, MISS)
    assert await value(here, "big") == (b"x" * 5000, MISS)
    assert len(here.cache) == 0


# -- the store is down --------------------------------------------------------------------


async def test_cached_keys_are_served_stale_while_the_store_is_down(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"v")
    here = make_location()
    await value(here, "k")
    await value(here, "missing")
    clock.advance(120)
    authority.down = True
    assert await value(here, "k") == (b"v", STALE)
    assert await value(here, "missing") == (None, STALE)
    assert here.metrics.stale_serves == 2
    assert not here.health.up


async def test_cold_reads_and_writes_fail_fast_while_the_store_is_down(
    make_location: Make, authority: FaultyStore
) -> None:
    here = make_location()
    authority.down = True
    with pytest.raises(StoreUnavailable):
        await here.get(SPACE, "cold")
    calls = authority.calls
    for _ in range(5):  # the breaker is open: nothing more reaches the store
        with pytest.raises(StoreUnavailable):
            await here.get(SPACE, "cold")
        with pytest.raises(StoreUnavailable):
            await here.put(SPACE, "cold", b"v")
    assert authority.calls == calls
    assert here.metrics.fast_failures == 10


async def test_a_hanging_store_times_out_instead_of_hanging_the_reader(
    make_location: Make, authority: FaultyStore
) -> None:
    here = make_location(store_timeout_seconds=0.05)
    authority.hang = True
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(here.get(SPACE, "k"), 5)


async def test_the_breaker_probes_once_its_retry_time_comes(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"v")
    here = make_location()
    authority.down = True
    with pytest.raises(StoreUnavailable):
        await here.get(SPACE, "k")
    authority.down = False
    with pytest.raises(StoreUnavailable):  # retry time not reached: still refused
        await here.get(SPACE, "k")
    clock.set(here.health.retry_at)
    assert await value(here, "k") == (b"v", MISS)
    assert here.health.up and here.health.recovered_at == clock.now()


async def test_refills_after_recovery_are_spread_over_the_refill_window(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    keys = [f"k{i}" for i in range(40)]
    for key in keys:
        await authority.put(SPACE, key, b"v")
    here = make_location(refill_spread_seconds=30)
    for key in keys:
        await value(here, key)
    clock.advance(120)
    authority.down = True
    for key in keys:  # first call trips the breaker, the rest are served stale
        assert await value(here, key) == (b"v", STALE)
    authority.down = False
    clock.set(here.health.retry_at)
    authority.reads.clear()
    refetched_by_second = []
    for _second in range(31):
        for key in keys:
            await value(here, key)
        refetched_by_second.append(len(authority.reads))
        clock.advance(1)
    # Not all at once: the first second refetches only the probe and its share, the rest
    # follow over the window, and by its end everything has been refetched exactly once.
    assert refetched_by_second[0] < len(keys) / 4
    assert refetched_by_second[15] < len(keys)
    assert refetched_by_second[-1] == len(keys)


async def test_an_expired_entry_is_not_served_stale(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    for key in ("one", "bulk"):
        await authority.put(SPACE, key, b"v", expiration=NOW + 60)
    here = make_location()
    await value(here, "one")
    assert (await here.get_many(SPACE, ["bulk"])).keys() == {"bulk"}
    clock.set(NOW + 120)
    authority.down = True
    assert await value(here, "one") == (None, STALE)
    assert await here.get_many(SPACE, ["bulk"]) == {}


async def test_a_failed_write_forgets_the_key_here(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"old")
    here = make_location()
    await value(here, "k")
    authority.down = True
    with pytest.raises(StoreUnavailable):
        await here.put(SPACE, "k", b"new")  # did it land? unknown: do not answer "old"
    assert here.cache.peek(SPACE, "k") is None
    authority.down = False
    clock.set(here.health.retry_at)
    assert await value(here, "k") == (b"old", MISS)


@pytest.mark.parametrize("space", ["sys:tokens", "sys:accounts", "do:worker-Counter:ab12", "do-alarms"])
async def test_strongly_consistent_spaces_bypass_the_cache(
    make_location: Make, authority: FaultyStore, space: str
) -> None:
    here, there = make_location(), make_location()
    await here.put(space, "k", b"v1")
    assert await here.get(space, "k") == Record("k", b"v1")
    await there.put(space, "k", b"revoked")  # e.g. a token revoked at another location
    assert (await here.get_with_status(space, "k"))[0] == Record("k", b"revoked")
    assert (await here.get_many(space, ["k"]))["k"].value == b"revoked"
    await there.delete(space, "k")
    assert await here.get(space, "k") is None
    assert len(here.cache) == 0 and len(authority.reads) == 4


async def test_a_write_refused_by_the_open_breaker_keeps_the_entry_servable(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"old")
    here = make_location()
    await value(here, "k")
    clock.advance(120)
    authority.down = True
    assert await value(here, "k") == (b"old", STALE)  # this read opened the breaker
    with pytest.raises(StoreUnavailable):
        await here.put(SPACE, "k", b"new")  # refused without being sent
    assert await value(here, "k") == (b"old", STALE)


async def test_cached_answer_is_the_synchronous_hit_path(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    await authority.put(SPACE, "k", b"v")
    here = make_location()
    assert here.cached_answer(SPACE, "k") is None  # nothing cached: needs the store
    await value(here, "k")
    assert here.cached_answer(SPACE, "k") == (Record("k", b"v"), HIT)
    clock.advance(61)
    assert here.cached_answer(SPACE, "k") is None  # past its TTL: needs the store
    assert here.metrics.hits == 1 and len(authority.reads) == 1


async def test_a_bulk_read_shares_a_single_read_already_under_way(
    make_location: Make, authority: FaultyStore
) -> None:
    for key in ("a", "b"):
        await authority.put(SPACE, key, key.encode())
    here = make_location()
    authority.gate = asyncio.Event()
    single = asyncio.create_task(here.get(SPACE, "a"))
    await asyncio.sleep(0.01)
    bulk = asyncio.create_task(here.get_many(SPACE, ["a", "b"]))
    await asyncio.sleep(0.01)
    authority.gate.set()
    assert (await single).value == b"a"  # type: ignore[union-attr]
    assert {k: r.value for k, r in (await bulk).items()} == {"a": b"a", "b": b"b"}
    assert authority.reads == [("a",), ("b",)]  # the bulk read asked only for "b"


async def test_a_joined_read_with_a_lower_cache_ttl_shortens_the_shared_entry(
    make_location: Make, authority: FaultyStore
) -> None:
    await authority.put(SPACE, "k", b"v")
    here = make_location()
    authority.gate = asyncio.Event()
    long_ttl = asyncio.create_task(here.get(SPACE, "k", cache_ttl=600))
    await asyncio.sleep(0.01)
    short_ttl = asyncio.create_task(here.get(SPACE, "k", cache_ttl=30))
    await asyncio.sleep(0.01)
    authority.gate.set()
    await asyncio.gather(long_ttl, short_ttl)
    entry = here.cache.peek(SPACE, "k")
    assert entry is not None and entry.ttl == 30 and len(authority.reads) == 1
