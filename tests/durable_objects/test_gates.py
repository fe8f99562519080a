"""Eager calls, input and output gates, and failed commits (issue: DOs as workerd runs them)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from edgekv.durable_objects import DurableObjectReset, DurableObjectRuntime
from edgekv.kv.namespace import KVNamespace
from edgekv.storage import open_store

from .conftest import DurableObject, MakeRuntime

FK_TEXT = (
    "Durable Object was reset and rolled back to its last known good state because the "
    "application left the database in a state where constraints were violated: "
    "FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"
)


class Eager(DurableObject):
    waiting: asyncio.Future[str] | None = None

    async def fire_and_forget(self) -> None:
        self.ctx.storage.put("k", "written")  # never awaited: still happens
        self.ctx.storage.put({"a": 1, "b": 2})

    async def put_buffer(self) -> bytes:
        buf = bytearray(b"ab")
        pending = self.ctx.storage.put("buf", buf)
        buf[0] = ord("z")  # mutating after put() must not change what is stored
        await pending
        return bytes(await self.ctx.storage.get("buf"))

    async def read(self, key: str) -> Any:
        return await self.ctx.storage.get(key)

    async def wait_for_other_event(self) -> str:
        Eager.waiting = asyncio.get_running_loop().create_future()
        return await Eager.waiting

    async def release(self, value: str) -> None:
        assert Eager.waiting is not None
        Eager.waiting.set_result(value)

    async def in_transaction(self, log: list[str]) -> None:
        async def body(txn: Any) -> None:
            log.append("txn start")
            await txn.put("t", 1)
            await asyncio.sleep(0.02)  # not storage, but the transaction keeps the gate closed
            log.append("txn end")

        await self.ctx.storage.transaction(body)

    async def note(self, log: list[str]) -> None:
        log.append("other event")

    async def create_tables(self) -> None:
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY)")
        sql.exec("CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, "
                 "user_id INTEGER REFERENCES users(id))")

    async def fk_violation(self) -> str:
        sql = self.ctx.storage.sql

        def violate() -> None:
            sql.exec("PRAGMA defer_foreign_keys=ON;")
            sql.exec("INSERT INTO posts (user_id) VALUES (2)")

        self.ctx.storage.transactionSync(violate)
        return "acknowledged?"

    async def fk_then_write(self) -> None:
        await self.fk_violation()
        self.ctx.storage.sql.exec("INSERT INTO users VALUES (99)")  # must never be acknowledged

    async def increment(self) -> int:
        value = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", value)
        return value

    async def posts(self) -> list[Any]:
        return [dict(r) for r in self.ctx.storage.sql.exec("SELECT * FROM posts")]

    async def users(self) -> list[Any]:
        return [r["id"] for r in self.ctx.storage.sql.exec("SELECT id FROM users")]


@pytest.mark.parametrize("sqlite", [False, True])
async def test_unawaited_writes_happen(make_runtime: MakeRuntime, sqlite: bool) -> None:
    rt = await make_runtime()
    ns = rt.namespace("E", Eager, unique_key="w-Eager", sqlite=sqlite)
    await ns.getByName("x").fire_and_forget()
    stub = ns.getByName("x")
    assert [await stub.read(k) for k in ("k", "a", "b")] == ["written", 1, 2]


@pytest.mark.parametrize("sqlite", [False, True])
async def test_buffers_are_copied_at_call_time(make_runtime: MakeRuntime, sqlite: bool) -> None:
    rt = await make_runtime()
    ns = rt.namespace("E", Eager, unique_key="w-Eager", sqlite=sqlite)
    assert await ns.getByName("x").put_buffer() == b"ab"


async def test_kv_binding_calls_are_eager() -> None:
    store = open_store("memory://")
    kv = KVNamespace(store, "ns")
    buf = bytearray(b"one")
    kv.put("k", buf)  # not awaited
    buf[:] = b"two"
    kv.put("gone", "x")
    kv.delete("gone")
    await asyncio.sleep(0)
    assert await kv.get("k") == "one"
    assert await kv.get("gone") is None
    await store.close()


@pytest.mark.parametrize("sqlite", [False, True])
async def test_a_handler_waiting_for_another_event_finishes(
    make_runtime: MakeRuntime, sqlite: bool
) -> None:
    rt = await make_runtime()
    ns = rt.namespace("E", Eager, unique_key="w-Eager", sqlite=sqlite)
    waiting = asyncio.create_task(ns.getByName("w").wait_for_other_event())
    await asyncio.sleep(0.01)
    await ns.getByName("w").release("done")
    assert await asyncio.wait_for(waiting, 2) == "done"


@pytest.mark.parametrize("sqlite", [False, True])
async def test_no_interleaving_inside_a_transaction(make_runtime: MakeRuntime, sqlite: bool) -> None:
    rt = await make_runtime()
    ns = rt.namespace("E", Eager, unique_key="w-Eager", sqlite=sqlite)
    log: list[str] = []
    stub = ns.getByName("t")
    await stub.read("warm-up")  # construct first
    host = rt._hosts["w-Eager"]
    object_id = ns.idFromName("t")
    txn = asyncio.create_task(host.dispatch(object_id, lambda o: o.in_transaction(log)))
    await asyncio.sleep(0.005)
    await host.dispatch(object_id, lambda o: o.note(log))
    await txn
    assert log == ["txn start", "txn end", "other event"]


@pytest.mark.parametrize("sqlite", [False, True])
async def test_hundred_concurrent_increments(make_runtime: MakeRuntime, sqlite: bool) -> None:
    rt = await make_runtime()
    ns = rt.namespace("E", Eager, unique_key="w-Eager", sqlite=sqlite)
    results = await asyncio.gather(*(ns.getByName("c").increment() for _ in range(100)))
    assert sorted(results) == list(range(1, 101))


async def test_failed_commit_resets_breaks_the_stub_and_loses_nothing(
    tmp_path: Path, make_runtime: MakeRuntime
) -> None:
    """sql-test.js testForeignKeys + "Since the DO was exploded, reusing the stub doesn't work"."""
    rt = await make_runtime()
    ns = rt.namespace("E", Eager, unique_key="w-Eager", sqlite=True)
    stub = ns.getByName("fk")
    await stub.create_tables()  # committed with its own event, as upstream awaits in between
    with pytest.raises(DurableObjectReset) as info:
        await stub.fk_violation()
    assert str(info.value) == FK_TEXT
    with pytest.raises(DurableObjectReset) as again:
        await stub.increment()
    assert str(again.value) == FK_TEXT
    stub = ns.getByName("fk")
    assert await stub.posts() == []  # rolled back
    assert await stub.increment() == 1
    with pytest.raises(DurableObjectReset):
        await stub.fk_then_write()
    stub = ns.getByName("fk")
    assert await stub.users() == []  # the write after the failed commit was never acknowledged
    assert await stub.increment() == 2  # and later writes are durable:
    await rt.close()
    store = open_store(f"sqlite:///{tmp_path / 'store2.db'}")
    async with DurableObjectRuntime(store, str(tmp_path / "state")) as again_rt:
        reopened = again_rt.namespace("E", Eager, unique_key="w-Eager", sqlite=True)
        assert await reopened.getByName("fk").read("n") == 2
    await store.close()


class Alarmed(DurableObject):
    async def alarm(self) -> None:
        pass

    async def setup(self) -> Any:
        await self.ctx.storage.setAlarm(10_000_000_000_000)
        await self.ctx.storage.deleteAll()
        return await self.ctx.storage.getAlarm()


@pytest.mark.parametrize(
    ("date", "flags", "kept"),
    [("2026-02-23", (), True), ("2026-02-24", (), False),
     ("2024-01-01", ("delete_all_deletes_alarm",), False),
     ("2026-03-01", ("delete_all_preserves_alarm",), True)],
)
async def test_delete_all_deletes_alarm_by_compatibility(
    make_runtime: MakeRuntime, date: str, flags: tuple[str, ...], kept: bool
) -> None:
    """workerd delete-all-deletes-alarm-test.js; flag delete_all_deletes_alarm (2026-02-24)."""
    rt = await make_runtime(compatibility_date=date, compatibility_flags=flags)
    ns = rt.namespace("A", Alarmed, unique_key="w-Alarmed", sqlite=True)
    assert (await ns.getByName("a").setup() is not None) is kept


class _FailingStore:
    """Injects a write failure into a real store (a fault a real disk cannot give on demand)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.fail_key: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def put(self, space: str, key: str, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)  # the write is in flight when the handler returns
        if key == self.fail_key:
            raise OSError("disk failed")
        return await self._inner.put(space, key, *args, **kwargs)


class Writer(DurableObject):
    async def write_unawaited(self, key: str) -> str:
        self.ctx.storage.put(key, 1)  # not awaited: the output gate still waits for it
        return "acknowledged"

    async def read(self, key: str) -> Any:
        return await self.ctx.storage.get(key)


async def test_output_gate_holds_the_result_until_writes_confirm(make_runtime: MakeRuntime) -> None:
    inner = open_store("memory://")
    store = _FailingStore(inner)
    rt = await make_runtime(store=store)
    ns = rt.namespace("W", Writer, unique_key="w-Writer")
    assert await ns.getByName("a").write_unawaited("ok") == "acknowledged"
    assert await ns.getByName("a").read("ok") == 1  # confirmed before the answer
    store.fail_key = "bad"
    stub = ns.getByName("a")
    with pytest.raises(DurableObjectReset, match="disk failed"):
        await stub.write_unawaited("bad")  # never acknowledged
    assert await ns.getByName("a").read("bad") is None


async def test_old_kv_table_is_migrated(make_runtime: MakeRuntime) -> None:
    """Object files written before the rename keep their data under workerd's ``_cf_KV``."""
    import apsw

    from edgekv.durable_objects import codec

    rt = await make_runtime()
    ns = rt.namespace("W", Writer, unique_key="w-Writer", sqlite=True)
    path = rt._hosts["w-Writer"].sqlite_path(ns.idFromName("old").toString())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    old = apsw.Connection(path)
    old.execute("CREATE TABLE __cf_kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
    old.execute("INSERT INTO __cf_kv VALUES ('k', ?)", (codec.encode({"kept": True}),))
    old.close()
    assert await ns.getByName("old").read("k") == {"kept": True}
    tables = await rt._hosts["w-Writer"].run_in(
        ns.idFromName("old"),
        lambda _i, ctx: [r["name"] for r in ctx.storage.sql.exec("SELECT name FROM sqlite_master")],
    )
    assert "_cf_KV" in tables and "__cf_kv" not in tables
