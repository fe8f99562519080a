"""Shared fixtures for the storage engine tests: a factory that opens any backend
(``postgres`` uses the session's PostgreSQL cluster, one schema per store)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from edgekv.clock import FakeClock
from edgekv.storage import Store, open_store

StoreFactory = Callable[..., Awaitable[Store]]

BACKENDS = ["memory", "sqlite", "postgres"]


def store_url(backend: str, directory: Path, name: str = "x.sqlite3") -> str:
    """The URL that opens ``backend``; SQLite files live in ``directory``."""
    if backend == "memory":
        return "memory://"
    return f"sqlite:///{directory / name}"


def _sql_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_store(
    backend: str, tmp_path: Path, clock: FakeClock, request: pytest.FixtureRequest
) -> AsyncIterator[StoreFactory]:
    """A factory: ``await make_store()`` opens a fresh store of the parametrized backend.

    Every store opened through it is closed at teardown. ``name`` picks another SQLite file
    (ignored by ``memory://``); ``clock`` overrides the shared ``FakeClock``.
    """
    opened: list[Store] = []
    counter = iter(range(1_000_000))
    schema_prefix = ""
    if backend == "postgres":  # one schema per name, so ``name`` reopens the same data
        cluster = request.getfixturevalue("postgres_cluster")
        schema_prefix = cluster.new_schema()

    async def factory(*, name: str | None = None, clock_: FakeClock | None = None) -> Store:
        file_name = name or f"x{next(counter)}.sqlite3"
        if backend == "postgres":
            url = cluster.url(f"{schema_prefix}_{_sql_name(file_name)}")
        else:
            url = store_url(backend, tmp_path, file_name)
        store = open_store(url, clock=clock_ or clock)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store: StoreFactory) -> Store:
    """One fresh store of the parametrized backend."""
    return await make_store()
