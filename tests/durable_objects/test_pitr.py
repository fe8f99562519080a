"""Point-in-time recovery: bookmarks, restores at the next start, bounds, restarts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from edgekv.clock import FakeClock
from edgekv.durable_objects import (
    TESTING_DO_LIMITS,
    DurableObjectRangeError,
    DurableObjectReset,
    DurableObjectRuntime,
)
from edgekv.storage import open_store

from .conftest import DurableObject, MakeRuntime

DAY = 86400.0


class Journal(DurableObject):
    async def write(self, n: int) -> None:
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE IF NOT EXISTS log (n INTEGER)")  # rowid table, no primary key
        sql.exec("INSERT INTO log VALUES (?)", n)
        await self.ctx.storage.put("last", n)

    async def state(self) -> Any:
        sql = self.ctx.storage.sql
        tables = [r["name"] for r in sql.exec("SELECT name FROM sqlite_master WHERE type='table' "
                                             "AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")]
        rows = [r["n"] for r in sql.exec("SELECT n FROM log")] if "log" in tables else None
        return {"tables": tables, "log": rows, "last": await self.ctx.storage.get("last")}

    async def bookmark(self) -> str:
        return await self.ctx.storage.getCurrentBookmark()

    async def bookmark_at(self, millis: int) -> str:
        return await self.ctx.storage.getBookmarkForTime(millis)

    async def restore(self, bookmark: str) -> str:
        return await self.ctx.storage.onNextSessionRestoreBookmark(bookmark)

    async def restore_and_abort(self, bookmark: str) -> None:
        await self.ctx.storage.onNextSessionRestoreBookmark(bookmark)
        self.ctx.abort("restoring")

    async def drop(self) -> None:
        self.ctx.storage.sql.exec("DROP TABLE log")

    async def wipe(self) -> None:
        await self.ctx.storage.deleteAll()


def ms(clock: FakeClock) -> int:
    return int(clock.now() * 1000)


async def test_restore_any_committed_transaction(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    ns = rt.namespace("J", Journal, unique_key="w-Journal", sqlite=True)
    stub = ns.getByName("a")
    times = []
    for n in range(1, 6):
        clock.advance(60)
        await stub.write(n)
        times.append(ms(clock))
    clock.advance(60)
    await stub.drop()  # a schema change
    clock.advance(60)
    await stub.wipe()  # and deleteAll()
    assert await stub.state() == {"tables": [], "log": None, "last": None}
    for n, when in enumerate(times, start=1):
        bookmark = await stub.bookmark_at(when)
        with pytest.raises(DurableObjectReset):
            await stub.restore_and_abort(bookmark)
        stub = ns.getByName("a")
        assert await stub.state() == {"tables": ["log"], "log": list(range(1, n + 1)), "last": n}
    # The restore itself can be undone with the bookmark it returned.
    undo = await stub.restore(await stub.bookmark_at(times[0]))
    assert await stub.state() == {"tables": ["log"], "log": [1, 2, 3, 4, 5], "last": 5}  # not yet
    rt.get_namespace("J")  # (same namespace)
    from edgekv.testing import durable_objects as do

    do.evict_durable_object(stub)
    assert await stub.state() == {"tables": ["log"], "log": [1], "last": 1}
    await stub.restore(undo)
    do.evict_durable_object(stub)
    assert await stub.state() == {"tables": ["log"], "log": [1, 2, 3, 4, 5], "last": 5}


async def test_restore_survives_a_server_restart(tmp_path: Path, clock: FakeClock) -> None:
    async def runtime() -> tuple[DurableObjectRuntime, Any]:
        store = open_store(f"sqlite:///{tmp_path / 'do.sqlite3'}", clock=clock)
        rt = DurableObjectRuntime(store, str(tmp_path / "state"), clock=clock, limits=TESTING_DO_LIMITS)
        await rt.start()
        return rt, store

    rt, store = await runtime()
    ns = rt.namespace("J", Journal, unique_key="w-Journal", sqlite=True)
    await ns.getByName("a").write(1)
    bookmark = await ns.getByName("a").bookmark()
    await ns.getByName("a").write(2)
    await ns.getByName("a").restore(bookmark)
    await rt.close()
    await store.close()
    rt, store = await runtime()
    ns = rt.namespace("J", Journal, unique_key="w-Journal", sqlite=True)
    assert await ns.getByName("a").state() == {"tables": ["log"], "log": [1], "last": 1}
    await rt.close()
    await store.close()


async def test_bookmarks_advance_and_validate(make_runtime: MakeRuntime) -> None:
    """sql-test.js testSessionsAPIBookmark: 20 bookmarks, each after the previous."""
    rt = await make_runtime()
    stub = rt.namespace("J", Journal, unique_key="w-Journal", sqlite=True).getByName("b")
    previous = ""
    for _ in range(20):
        bookmark = await stub.bookmark()
        assert previous < bookmark
        assert len(bookmark) == 8 + 1 + 8 + 1 + 8 + 1 + 32
        previous = bookmark
    for bad in ("nope", "ffffffff-ffffffff-00000000-" + "0" * 32):
        with pytest.raises(DurableObjectRangeError):
            await stub.restore(bad)


async def test_history_is_bounded_in_age(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    stub = rt.namespace("J", Journal, unique_key="w-Journal", sqlite=True).getByName("c")
    await stub.write(1)
    first = ms(clock)
    clock.advance(10 * DAY)
    await stub.write(2)
    assert await stub.bookmark_at(first)  # 10 days back: fine
    clock.advance(25 * DAY)
    await stub.write(3)
    with pytest.raises(DurableObjectRangeError):
        await stub.bookmark_at(first)  # 35 days back: beyond the 30-day window
    bookmark = await stub.bookmark_at(ms(clock) - int(29 * DAY * 1000))  # state after write 2
    with pytest.raises(DurableObjectReset):
        await stub.restore_and_abort(bookmark)
    stub = rt.get_namespace("J").getByName("c")
    assert (await stub.state())["log"] == [1]  # the state during [first, first + 10 days)


async def test_history_is_bounded_in_bytes(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    limits = replace(TESTING_DO_LIMITS, pitr_max_history_bytes=16 * 1024)
    rt = await make_runtime(limits=limits)
    ns = rt.namespace("J", Journal, unique_key="w-Journal", sqlite=True)
    stub = ns.getByName("d")
    marks = []
    for n in range(300):
        clock.advance(1)
        await stub.write(n)
        marks.append(ms(clock))
    history = rt._hosts["w-Journal"].entries[ns.idFromName("d").toString()].state.storage._db.history
    assert history.size_bytes <= 16 * 1024 + 8 * 1024  # the bound plus one base snapshot
    with pytest.raises(DurableObjectRangeError):
        await stub.bookmark_at(marks[0])  # dropped
    oldest, _ = history.bounds()
    from edgekv.durable_objects.pitr import format_bookmark

    with pytest.raises(DurableObjectReset):
        await stub.restore_and_abort(format_bookmark(oldest))
    state = await ns.getByName("d").state()
    assert state["log"] == list(range(len(state["log"]))) and 0 < len(state["log"]) < 300
