"""``ctx.storage`` on both backends: values, batches, limits, list options, transactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from edgekv.durable_objects import (
    DurableObjectError,
    DurableObjectRangeError,
    DurableObjectStorage,
    DurableObjectTypeError,
)

from .conftest import DurableObject, MakeRuntime

Run = Callable[[Callable[[DurableObjectStorage], Awaitable[Any]]], Awaitable[Any]]


class Box(DurableObject):
    async def run(self, fn: Any) -> Any:
        return await fn(self.ctx.storage)


@pytest.fixture(params=["kv", "sqlite"])
async def run(request: pytest.FixtureRequest, make_runtime: MakeRuntime) -> Run:
    """``await run(async fn(storage))`` inside one object's event."""
    rt = await make_runtime()
    ns = rt.namespace("BOX", Box, unique_key="w-Box", sqlite=request.param == "sqlite")
    host = rt._hosts["w-Box"]
    object_id = ns.idFromName("box")

    async def runner(fn: Callable[[DurableObjectStorage], Awaitable[Any]]) -> Any:
        return await host.dispatch(object_id, lambda inst: inst.run(fn))  # no clone: fn is code

    runner.sqlite = request.param == "sqlite"  # type: ignore[attr-defined]
    return runner


async def test_get_put_delete_one(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        assert await s.get("missing") is None
        value = {"when": dt.datetime(2024, 1, 2), "tags": ("a", "b"), "n": 1.5, "raw": b"\x00"}
        await s.put("k", value)
        got = await s.get("k")
        assert got == value
        got["tags"] = None
        assert (await s.get("k"))["tags"] == ("a", "b")  # reads are copies
        await s.put("none", None)
        assert await s.delete("k") is True
        assert await s.delete("k") is False
        assert await s.get("k") is None

    await run(body)


async def test_batches_return_sorted_dicts(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        await s.put({"b": 2, "a": 1, "é": 3, "c": [3]})
        got = await s.get(["é", "missing", "c", "a"])
        assert got == {"a": 1, "c": [3], "é": 3} and list(got) == ["a", "c", "é"]
        assert await s.delete(["a", "b", "missing"]) == 2
        assert await s.get(["a", "b"]) == {}
        assert await s.list() == {"c": [3], "é": 3}

    await run(body)


async def test_128_key_limits(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        keys = [f"k{i}" for i in range(129)]
        await s.put({k: 1 for k in keys[:128]})
        assert len(await s.get(keys[:128])) == 128
        with pytest.raises(DurableObjectRangeError) as info:
            await s.get(keys)
        assert str(info.value) == "Maximum number of keys is 128."
        with pytest.raises(DurableObjectRangeError) as info:
            await s.delete(keys)
        assert str(info.value) == "Maximum number of keys is 128."
        with pytest.raises(DurableObjectRangeError) as info:
            await s.put({k: 1 for k in keys})
        assert str(info.value) == "Maximum number of pairs is 128."
        assert await s.delete(keys[:128]) == 128

    await run(body)


async def test_put_requires_a_value(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        with pytest.raises(DurableObjectTypeError) as info:
            await s.put("k")
        assert str(info.value) == "put() called with undefined value."
        with pytest.raises(TypeError):
            await s.get(5)  # type: ignore[arg-type]

    await run(body)


async def test_size_limits(run: Run) -> None:
    sqlite = run.sqlite  # type: ignore[attr-defined]

    async def body(s: DurableObjectStorage) -> None:
        # TESTING_DO_LIMITS: 1 KiB values (KV-backed), 2 KiB key+value (SQLite-backed)
        if sqlite:
            await s.put("k" * 2040, 1)  # no separate 2 KiB key limit: key + value counts
            with pytest.raises(DurableObjectError) as info:
                await s.put("k", "x" * 2100)
            assert str(info.value) == "string or blob too big: SQLITE_TOOBIG"
            return
        with pytest.raises(DurableObjectRangeError) as info:
            await s.put("k" * 2049, 1)
        assert str(info.value) == "Keys cannot be larger than 2048 bytes."
        await s.put("k" * 2048, 1)
        with pytest.raises(DurableObjectRangeError) as info:
            await s.put({"é" * 1025: 1})
        assert str(info.value) == f'Key "{"é" * 1025}" is larger than the limit of 2048 bytes.'
        with pytest.raises(DurableObjectRangeError) as info:
            await s.put("v", "x" * 1100)
        assert str(info.value) == "Values cannot be larger than 1024 bytes."
        with pytest.raises(DurableObjectRangeError) as info:
            await s.put({"v": "x" * 1100})
        assert str(info.value) == 'Value for key "v" is above the limit of 1024 bytes.'
        assert await s.get("v") is None

    await run(body)


async def test_list_options(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        await s.put({k: k.upper() for k in ["a", "ab", "abc", "b", "ba", "c", "\u00e9", "\U0001f600"]})
        keys = lambda d: list(d)
        assert keys(await s.list()) == ["a", "ab", "abc", "b", "ba", "c", "é", "😀"]
        assert keys(await s.list(prefix="a")) == ["a", "ab", "abc"]
        assert keys(await s.list({"prefix": "a", "reverse": True})) == ["abc", "ab", "a"]
        assert keys(await s.list(start="ab", end="ba")) == ["ab", "abc", "b"]
        assert keys(await s.list(startAfter="ab", end="ba")) == ["abc", "b"]
        assert keys(await s.list(start_after="ab", limit=2)) == ["abc", "b"]
        assert keys(await s.list(reverse=True, limit=3)) == ["😀", "é", "c"]
        assert keys(await s.list(start="b", reverse=True, limit=1)) == ["😀"]
        assert keys(await s.list(end="b", reverse=True)) == ["abc", "ab", "a"]
        assert keys(await s.list(prefix="a", start="abb")) == ["abc"]
        assert keys(await s.list(prefix="a", start="b")) == []
        assert keys(await s.list(prefix="b", end="bz")) == ["b", "ba"]
        assert keys(await s.list(start="c", end="a")) == []
        assert (await s.list(prefix="ab")) == {"ab": "AB", "abc": "ABC"}
        for bad in (0, -1, 1.0 - 1):
            with pytest.raises(DurableObjectTypeError) as info:
                await s.list(limit=bad)
            assert str(info.value) == "List limit must be positive."
        with pytest.raises(DurableObjectTypeError) as info:
            await s.list(start="a", startAfter="b")
        assert str(info.value) == "list() cannot be called with both start and startAfter values."

    await run(body)


async def test_delete_all_keeps_alarm(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        await s.put({"a": 1, "b": 2})
        await s.deleteAll()
        assert await s.list() == {}
        await s.put("c", 3)
        assert await s.list() == {"c": 3}
        await s.delete_all()
        await s.sync()
        assert await s.get("c") is None

    await run(body)


async def test_transaction_commits(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        await s.put({"a": 1, "gone": 0})

        async def txn_body(txn: Any) -> str:
            await txn.put("b", 2)
            assert await txn.delete("gone") is True
            assert await txn.get(["a", "b", "gone"]) == {"a": 1, "b": 2}
            assert list(await txn.list()) == ["a", "b"]
            assert list(await txn.list(limit=1, reverse=True)) == ["b"]
            return "done"

        assert await s.transaction(txn_body) == "done"
        assert await s.list() == {"a": 1, "b": 2}

    await run(body)


async def test_transaction_rolls_back_on_exception(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        await s.put("a", 1)

        async def txn_body(txn: Any) -> None:
            await txn.put("a", 100)
            await txn.put("b", 2)
            await txn.delete("a")
            raise RuntimeError("abort txn")

        with pytest.raises(RuntimeError, match="abort txn"):
            await s.transaction(txn_body)
        assert await s.list() == {"a": 1}

    await run(body)


async def test_explicit_rollback(run: Run) -> None:
    async def body(s: DurableObjectStorage) -> None:
        kept: list[Any] = []

        async def txn_body(txn: Any) -> str:
            await txn.put("x", 1)
            txn.rollback()
            txn.rollback()  # allowed twice
            with pytest.raises(DurableObjectError) as info:
                await txn.get("x")
            assert str(info.value) == "Cannot get() on rolled back transaction"
            kept.append(txn)
            return "rolled back"

        assert await s.transaction(txn_body) == "rolled back"
        assert await s.get("x") is None

        async def leak(txn: Any) -> None:
            kept.append(txn)

        await s.transaction(leak)
        with pytest.raises(DurableObjectError, match="already committed: did you move `txn`"):
            await kept[-1].put("y", 1)
        with pytest.raises(DurableObjectError) as info:
            await kept[-1].deleteAll()
        assert str(info.value) == "Cannot call deleteAll() within a transaction"

    await run(body)


async def test_sqlite_only_surfaces(run: Run) -> None:
    sqlite = run.sqlite  # type: ignore[attr-defined]

    async def body(s: DurableObjectStorage) -> None:
        if sqlite:
            s.kv.put("sync", [1])
            assert s.kv.get("sync") == [1]
            assert list(s.kv.list(prefix="s")) == [("sync", [1])]
            assert await s.get("sync") == [1]
            assert s.kv.delete("sync") is True
            return
        with pytest.raises(DurableObjectError, match="^SQL is not enabled for this Durable Object"):
            s.sql  # noqa: B018
        with pytest.raises(DurableObjectError) as info:
            s.transactionSync(lambda: None)
        assert str(info.value) == "Durable Object is not backed by SQL."

    await run(body)
