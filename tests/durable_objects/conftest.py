"""Factories for Durable Object tests: runtimes over real stores, with a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from edgekv.clock import FakeClock
from edgekv.durable_objects import TESTING_DO_LIMITS, DurableObjectRuntime
from edgekv.storage import Store, open_store

MakeRuntime = Callable[..., Awaitable[DurableObjectRuntime]]


class DurableObject:
    """Stand-in for ``workers.DurableObject`` (owned by edgekv.runtime, not imported here)."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_000_000.0)


@pytest.fixture
async def make_runtime(tmp_path: Path, clock: FakeClock) -> AsyncIterator[MakeRuntime]:
    """``await make_runtime(store=None, start=False, **kwargs)``; everything closed at teardown.

    The default store is a real SQLite file in ``tmp_path`` and the state dir is ``tmp_path``.
    """
    opened: list[tuple[DurableObjectRuntime, Store]] = []

    async def factory(
        *, store: Store | None = None, start: bool = False, **kwargs: Any
    ) -> DurableObjectRuntime:
        store = store or open_store(f"sqlite:///{tmp_path / 'store.db'}", clock=clock)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("limits", TESTING_DO_LIMITS)
        rt = DurableObjectRuntime(store, str(tmp_path / "state"), **kwargs)
        opened.append((rt, store))
        if start:
            await rt.start()
        return rt

    yield factory
    for rt, store in opened:
        await rt.close()
        await store.close()
