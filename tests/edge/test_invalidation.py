"""Push invalidation within one process: a VersioningStore announces each change, every
location's Invalidator applies it, and other locations see a write at once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable

import pytest

from edgekv.clock import FakeClock
from edgekv.edge import HIT, MISS, CachedStore, Change, Invalidator, VersioningStore

from .conftest import SPACE, FaultyStore

Locations = Callable[..., tuple[CachedStore, Invalidator]]


@pytest.fixture
async def versioned(authority: FaultyStore) -> VersioningStore:
    return VersioningStore(authority)


@pytest.fixture
async def location(versioned: VersioningStore) -> AsyncIterator[Locations]:
    """Factory: a location subscribed to the authority's changes."""
    made: list[CachedStore] = []

    def make(*, subscribe: bool = True, refresh_popular: bool = False) -> tuple[CachedStore, Invalidator]:
        store = CachedStore(versioned, rng=random.Random(len(made)), close_inner=False)
        invalidator = Invalidator(store, refresh_popular=refresh_popular)
        if subscribe:
            def deliver(change: Change) -> None:
                invalidator.apply_notice(change.space, change.key, change.version)
                invalidator.advance(change.version)

            versioned.subscribe(deliver)
        made.append(store)
        return store, invalidator

    yield make
    for store in made:
        await store.close()


async def test_a_write_is_seen_everywhere_at_once(location: Locations) -> None:
    (writer, _), (reader, inv) = location(), location()
    await writer.put(SPACE, "k", b"old")
    assert (await reader.get_with_status(SPACE, "k"))[0].value == b"old"  # type: ignore[union-attr]
    await writer.put(SPACE, "k", b"new")
    record, status = await reader.get_with_status(SPACE, "k")
    assert (record.value, status) == (b"new", MISS)  # type: ignore[union-attr]
    assert inv.last_seen == 2
    await writer.delete(SPACE, "k")
    assert await reader.get(SPACE, "k") is None


async def test_without_notices_a_location_keeps_the_ttl_contract(
    location: Locations, clock: FakeClock
) -> None:
    (writer, _), (reader, _) = location(), location(subscribe=False)
    await writer.put(SPACE, "k", b"old")
    await reader.get(SPACE, "k")
    await writer.put(SPACE, "k", b"new")
    assert (await reader.get(SPACE, "k")).value == b"old"  # type: ignore[union-attr]
    clock.advance(60)
    assert (await reader.get(SPACE, "k")).value == b"new"  # type: ignore[union-attr]


async def test_the_writer_keeps_its_entry_when_its_own_notice_arrives(location: Locations) -> None:
    writer, _ = location()
    await writer.put(SPACE, "k", b"v")  # the notice (same version) arrived during the put
    assert (await writer.get_with_status(SPACE, "k"))[1] == HIT
    entry = writer.cache.peek(SPACE, "k")
    assert entry is not None and entry.version == 1


async def test_a_notice_older_than_the_entry_is_ignored(location: Locations) -> None:
    (writer, _), (reader, inv) = location(), location(subscribe=False)
    await writer.put(SPACE, "k", b"v1")
    await writer.put(SPACE, "k", b"v2")
    await reader.get(SPACE, "k")  # holds version 2
    assert not inv.apply_notice(SPACE, "k", 1)  # a late notice about version 1
    assert (await reader.get_with_status(SPACE, "k"))[1] == HIT
    assert inv.apply_notice(SPACE, "k", 3)
    assert reader.cache.peek(SPACE, "k") is None


async def test_a_notice_during_a_read_keeps_the_older_answer_out(
    location: Locations, authority: FaultyStore
) -> None:
    (writer, _), (reader, _) = location(), location()
    await writer.put(SPACE, "k", b"old")
    authority.gate = asyncio.Event()
    reading = asyncio.create_task(reader.get(SPACE, "k"))
    await asyncio.sleep(0.01)  # the old answer is in transit (writes do not pass the gate)
    await writer.put(SPACE, "k", b"new")  # ...when the notice of a newer version arrives
    authority.gate.set()
    assert (await reading).value == b"old"  # type: ignore[union-attr]
    assert (await reader.get(SPACE, "k")).value == b"new"  # type: ignore[union-attr]


async def test_popular_entries_can_be_refreshed_instead_of_dropped(location: Locations) -> None:
    (writer, _), (reader, _) = location(), location(refresh_popular=True)
    await writer.put(SPACE, "k", b"old")
    for _ in range(3):
        await reader.get(SPACE, "k")
    await writer.put(SPACE, "k", b"new")
    await asyncio.sleep(0.01)  # the refresh runs in the background
    record, status = await reader.get_with_status(SPACE, "k")
    assert (record.value, status) == (b"new", HIT)  # type: ignore[union-attr]
    assert reader.metrics.revalidations == 1


async def test_drop_all_after_a_lost_stream(location: Locations) -> None:
    (writer, _), (reader, inv) = location(), location(subscribe=False)
    for key in ("a", "b"):
        await writer.put(SPACE, key, b"v")
        await reader.get(SPACE, key)
    assert inv.drop_all() == 2
    assert len(reader.cache) == 0 and reader.metrics.full_drops == 1
    inv.reset(10)
    inv.advance(5)
    assert inv.last_seen == 10


async def test_invalidation_lag_is_measured(location: Locations, clock: FakeClock) -> None:
    _, inv = location(subscribe=False)
    clock.advance(0.25)
    inv.apply_notice(SPACE, "k", 1, committed_at=clock.now() - 0.25)
    lag = inv.store.metrics.invalidation_lag
    assert lag.count == 1 and lag.total == pytest.approx(0.25)


@pytest.mark.parametrize("seed", range(5))
async def test_with_notices_every_location_agrees_with_the_store(
    location: Locations, versioned: VersioningStore, clock: FakeClock, seed: int
) -> None:
    """Random writes, deletes, expiries, clock jumps and reads over three locations: with
    each notice delivered as its change commits, no location ever answers anything but what
    the central store holds (a stale answer needs a notice that has not arrived yet)."""
    rng = random.Random(seed)
    locations = [location()[0] for _ in range(3)]
    keys = [f"k{i}" for i in range(6)]
    for _ in range(300):
        here = rng.choice(locations)
        key = rng.choice(keys)
        op = rng.random()
        if op < 0.25:
            expiration = int(clock.now()) + rng.choice([60, 90]) if rng.random() < 0.3 else None
            await here.put(SPACE, key, rng.randbytes(4), expiration=expiration)
        elif op < 0.35:
            await here.delete(SPACE, key)
        elif op < 0.45:
            clock.advance(rng.choice([1, 29, 45, 61]))
        elif op < 0.6:
            wanted = rng.sample(keys, 3)
            assert await here.get_many(SPACE, wanted, cache_ttl=rng.choice([30, 60, 300])) == (
                await versioned.inner.get_many(SPACE, wanted)
            )
        else:
            got = await here.get(SPACE, key, cache_ttl=rng.choice([30, 60, 300]))
            assert got == await versioned.inner.get(SPACE, key)
