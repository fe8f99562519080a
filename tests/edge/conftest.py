"""Fixtures for the edge cache: a real store as the authority, a fake clock, locations.

The authority is the real ``memory://`` or ``sqlite:///`` store. ``FaultyStore`` wraps it
to count the calls that reach it and to make it fail or hang on demand: a store outage
cannot be produced in-process any other way (docs/architecture.md, Testing: mocks only
to inject faults).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from edgekv.clock import FakeClock
from edgekv.edge import CachedStore, EdgeCache, EdgePolicy
from edgekv.edge.forwarding import ForwardingStore
from edgekv.errors import StorageError
from edgekv.storage import Record, Store, open_store

NOW = 1000
SPACE = "ns"


class FaultyStore(ForwardingStore):
    """A real store behind a switch: ``down`` makes every call fail as a lost connection
    would, ``hang`` makes calls wait forever, ``gate`` holds read answers in transit (read
    from the store, not yet delivered) until it is set."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.down = False
        self.hang = False
        self.gate: asyncio.Event | None = None
        self.reads: list[tuple[str, ...]] = []  # keys of each read call that reached the store
        self.calls = 0

    async def _enter(self) -> None:
        self.calls += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.down:
            raise StorageError("connection refused")

    async def _transit(self) -> None:
        if self.gate is not None:
            await self.gate.wait()

    async def get(self, space: str, key: str) -> Record | None:
        await self._enter()
        self.reads.append((key,))
        record = await self.inner.get(space, key)
        await self._transit()
        return record

    async def get_many(self, space: str, keys: Sequence[str]) -> dict[str, Record]:
        await self._enter()
        self.reads.append(tuple(keys))
        records = await self.inner.get_many(space, keys)
        await self._transit()
        return records

    async def put(self, space: str, key: str, value: bytes, **kwargs: object) -> None:  # type: ignore[override]
        await self._enter()
        await self.inner.put(space, key, value, **kwargs)  # type: ignore[arg-type]

    async def delete(self, space: str, key: str) -> bool:
        await self._enter()
        return await self.inner.delete(space, key)

    async def scan_keys(self, space: str, **kwargs: object) -> list[tuple[str, int | None, str | None]]:  # type: ignore[override]
        await self._enter()
        return await self.inner.scan_keys(space, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'central.sqlite3'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def authority(store_url: str, clock: FakeClock) -> AsyncIterator[FaultyStore]:
    """The central store (real backend), seen through the fault switch."""
    store = FaultyStore(open_store(store_url, clock=clock))
    yield store
    await store.close()


@pytest.fixture
async def make_location(authority: Store) -> AsyncIterator[Callable[..., CachedStore]]:
    """Factory: a new location (its own edge cache) over the shared authority."""
    made: list[CachedStore] = []

    def make(
        inner: Store | None = None, *, cache: EdgeCache | None = None, **policy: float
    ) -> CachedStore:
        import random

        location = CachedStore(
            inner or authority, cache=cache, policy=EdgePolicy(**policy),
            rng=random.Random(len(made)), close_inner=False,
        )
        made.append(location)
        return location

    yield make
    for location in made:
        await location.close()
