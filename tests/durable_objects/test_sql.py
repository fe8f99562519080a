"""``ctx.storage.sql`` and ``transactionSync`` on SQLite-backed objects."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from edgekv.durable_objects import DurableObjectError, DurableObjectStorage
from edgekv.durable_objects.sql import split_statements

from .conftest import DurableObject, MakeRuntime


class Db(DurableObject):
    async def run(self, fn: Any) -> Any:
        result = fn(self.ctx.storage)
        return await result if inspect.isawaitable(result) else result


@pytest.fixture
async def sql_run(make_runtime: MakeRuntime) -> Any:
    rt = await make_runtime()
    ns = rt.namespace("DB", Db, unique_key="w-Db", sqlite=True)
    host = rt._hosts["w-Db"]

    async def runner(fn: Any, name: str = "db") -> Any:
        return await host.dispatch(ns.idFromName(name), lambda inst: inst.run(fn))

    runner.rt = rt  # type: ignore[attr-defined]
    runner.host = host  # type: ignore[attr-defined]
    return runner


def _schema(s: DurableObjectStorage) -> None:
    s.sql.exec(
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c BLOB);"
        "INSERT INTO t VALUES (1, 'one', x'00ff'); INSERT INTO t VALUES (2, 'two', NULL)"
    )


async def test_cursor_api(sql_run: Any) -> None:
    def body(s: DurableObjectStorage) -> None:
        _schema(s)
        cur = s.sql.exec("SELECT a, b, c FROM t ORDER BY a")
        assert cur.columnNames == ["a", "b", "c"] and cur.column_names == ["a", "b", "c"]
        rows = cur.toArray()
        assert rows == [{"a": 1, "b": "one", "c": b"\x00\xff"}, {"a": 2, "b": "two", "c": None}]
        assert rows[0].b == "one" and rows[0].to_py() == dict(rows[0])
        assert cur.rowsRead == 2 and cur.rowsWritten == 0
        assert list(s.sql.exec("SELECT a FROM t ORDER BY a").raw()) == [[1], [2]]
        assert [r["a"] for r in s.sql.exec("SELECT a FROM t ORDER BY a DESC")] == [2, 1]
        it = s.sql.exec("SELECT a FROM t WHERE a = ?", 1)
        assert it.next() == {"done": False, "value": {"a": 1}}
        assert it.next() == {"done": True, "value": None}
        assert s.sql.exec("SELECT count(*) AS n FROM t").one().n == 2

    await sql_run(body)


async def test_one_requires_exactly_one_row(sql_run: Any) -> None:
    def body(s: DurableObjectStorage) -> None:
        _schema(s)
        with pytest.raises(DurableObjectError) as info:
            s.sql.exec("SELECT * FROM t WHERE a > 100").one()
        assert str(info.value) == "Expected exactly one result from SQL query, but got no results."
        with pytest.raises(DurableObjectError) as info:
            s.sql.exec("SELECT * FROM t").one()
        assert str(info.value) == (
            "Expected exactly one result from SQL query, but got multiple results."
        )
        assert s.sql.exec("DELETE FROM t WHERE a = 2 RETURNING b").one() == {"b": "two"}

    await sql_run(body)


async def test_rows_written_and_bindings(sql_run: Any) -> None:
    def body(s: DurableObjectStorage) -> None:
        _schema(s)
        cur = s.sql.exec("INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?, ?)",
                         3, "three", bytearray(b"3"), 4, True, None)
        assert cur.rowsWritten == 2 and cur.columnNames == []
        assert s.sql.exec("UPDATE t SET b = 'x' WHERE a >= ?", 3).rowsWritten == 2
        assert s.sql.exec("SELECT c FROM t WHERE a = 3").one().c == b"3"
        with pytest.raises(TypeError):
            s.sql.exec("SELECT ?", object())

    await sql_run(body)


async def test_errors_transactions_and_hidden_tables(sql_run: Any) -> None:
    def body(s: DurableObjectStorage) -> None:
        with pytest.raises(DurableObjectError) as info:
            s.sql.exec("SELECT * FROM nope")
        assert str(info.value) == "no such table: nope: SQLITE_ERROR"
        for statement in ("BEGIN", "BEGIN TRANSACTION", "SAVEPOINT x", "COMMIT"):
            with pytest.raises(DurableObjectError) as info:
                s.sql.exec(statement)
            assert str(info.value).startswith("To execute a transaction, please use the")
        s.kv.put("secret", 1)
        names = [r.name for r in s.sql.exec("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "_cf_KV" in names  # listed, as on Cloudflare ...
        with pytest.raises(DurableObjectError, match="^access to _cf_KV.key is prohibited: SQLITE_AUTH$"):
            s.sql.exec("SELECT * FROM _cf_KV")  # ... but not readable
        with pytest.raises(DurableObjectError):
            s.sql.exec("DELETE FROM _cf_KV")
        assert s.kv.get("secret") == 1

    await sql_run(body)


async def test_multiple_statements(sql_run: Any) -> None:
    def body(s: DurableObjectStorage) -> None:
        cur = s.sql.exec(
            "CREATE TABLE m (x); -- comment; with semicolon\n"
            "INSERT INTO m VALUES ('a;b'); SELECT x FROM m WHERE x = ?;  ",
            "a;b",
        )
        assert cur.toArray() == [{"x": "a;b"}]
        with pytest.raises(DurableObjectError, match="only the last statement can have parameters"):
            s.sql.exec("SELECT ?; SELECT 1", 1)

    await sql_run(body)
    assert split_statements("SELECT 1;  SELECT 2") == ["SELECT 1;", "  SELECT 2"]
    with pytest.raises(DurableObjectError, match=r"^SQL code did not contain a statement\.$"):
        split_statements("SELECT 1; /* c */ ; SELECT 2")  # an empty statement, as workerd


async def test_transaction_sync(sql_run: Any) -> None:
    def body(s: DurableObjectStorage) -> None:
        _schema(s)

        def ok() -> int:
            s.sql.exec("INSERT INTO t (a, b) VALUES (10, 'ten')")
            s.kv.put("k", "v")
            return 10

        assert s.transactionSync(ok) == 10

        def fail() -> None:
            s.sql.exec("DELETE FROM t")
            s.kv.put("k", "changed")
            raise ValueError("undo")

        with pytest.raises(ValueError, match="undo"):
            s.transaction_sync(fail)
        assert s.sql.exec("SELECT count(*) AS n FROM t").one().n == 3
        assert s.kv.get("k") == "v"

        def inner() -> None:
            s.sql.exec("INSERT INTO t (a) VALUES (21)")
            raise ValueError("inner only")

        def nested() -> None:
            s.sql.exec("INSERT INTO t (a) VALUES (20)")
            with pytest.raises(ValueError):
                s.transactionSync(inner)

        s.transactionSync(nested)
        assert [r.a for r in s.sql.exec("SELECT a FROM t WHERE a >= 20")] == [20]

    await sql_run(body)


async def test_async_transaction_covers_sql(sql_run: Any) -> None:
    async def txn_body(txn: Any) -> None:
        txn._storage.sql.exec("INSERT INTO t (a) VALUES (99)")
        await txn.put("k", 1)
        raise RuntimeError("roll back both")

    def body(s: DurableObjectStorage) -> Any:
        _schema(s)

        async def go() -> None:
            with pytest.raises(RuntimeError):
                await s.transaction(txn_body)
            assert s.sql.exec("SELECT count(*) AS n FROM t").one().n == 2
            assert await s.get("k") is None

        return go()

    await sql_run(body)


async def test_delete_all_wipes_sql_and_kv(sql_run: Any, tmp_path: Path) -> None:
    def body(s: DurableObjectStorage) -> Any:
        _schema(s)
        s.kv.put("k", 1)

        async def go() -> None:
            assert s.sql.databaseSize > 0
            await s.deleteAll()
            assert [r.name for r in s.sql.exec("SELECT name FROM sqlite_master WHERE name = 't'")] == []
            assert s.kv.get("k") is None

        return go()

    await sql_run(body)


async def test_each_object_has_its_own_file(sql_run: Any) -> None:
    await sql_run(_schema, "one")
    await sql_run(lambda s: s.sql.exec("CREATE TABLE other (x)"), "two")
    one = await sql_run(lambda s: [r.name for r in s.sql.exec("SELECT name FROM sqlite_master")], "one")
    assert "t" in one and "other" not in one
    host = sql_run.host
    path = Path(host.sqlite_path(host.ids.from_name("one").toString()))
    assert path.exists() and path.parent.name == "w-Db" and path.parent.parent.name == "do"
