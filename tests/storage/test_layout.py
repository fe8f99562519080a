"""Schema version 3 (docs/reliability.md, "Storage that fits the data"): large values in
``blobs``, 16 KiB pages, and the automatic migration of version 2 stores."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from edgekv.storage import Record
from edgekv.storage.schema import INLINE_VALUE_BYTES, PAGE_SIZE_BYTES, SCHEMA_VERSION
from edgekv.storage.sqlite import SqliteStore

SMALL = b"s" * INLINE_VALUE_BYTES
LARGE = b"L" * (INLINE_VALUE_BYTES + 1)


def _count(path: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        return int(raw.execute(sql).fetchone()[0])


async def test_large_values_live_in_blobs_and_leave_with_their_entry(tmp_path: Path) -> None:
    path = tmp_path / "kv.sqlite3"
    async with SqliteStore(path) as store:
        await store.put("s", "small", SMALL)
        await store.put("s", "large", LARGE, metadata='{"m":1}')
        await store.write_batch("s", [Record(f"b{i}", LARGE + bytes([i])) for i in range(3)]
                                + [Record("bs", SMALL)])
        assert _count(path, "SELECT count(*) FROM blobs") == 4
        assert await store.get("s", "large") == Record("large", LARGE, None, '{"m":1}')
        assert (await store.get_many("s", ["b1", "bs"]))["b1"].value == LARGE + b"\x01"
        assert [r.value for r in await store.scan("s", prefix="b", values=True)] == [
            LARGE + b"\x00", LARGE + b"\x01", LARGE + b"\x02", SMALL]
        await store.put("s", "large", SMALL)  # large -> small: the blob goes
        await store.put("s", "b0", LARGE + b"new")  # large -> large: the old blob goes
        assert await store.delete("s", "b1")
        await store.write_batch("s", deletes=["b2"])
        assert _count(path, "SELECT count(*) FROM blobs") == 1
        assert (await store.get("s", "b0")).value == LARGE + b"new"  # type: ignore[union-attr]
        await store.drop_space("s")
        assert _count(path, "SELECT count(*) FROM blobs") == 0
    assert _count(path, "PRAGMA page_size") == PAGE_SIZE_BYTES


def _make_v2(path: Path, values: dict[str, bytes]) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
        raw.executescript(
            "CREATE TABLE spaces (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
            "CREATE TABLE entries (space INTEGER NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
            " expiration INTEGER, metadata TEXT, PRIMARY KEY (space, key)) WITHOUT ROWID;"
            "CREATE INDEX entries_by_expiration ON entries (expiration) WHERE expiration IS NOT NULL;"
            "CREATE TABLE kv_namespaces (id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
            " title TEXT NOT NULL, created_at REAL NOT NULL, UNIQUE (account_id, title));"
            "INSERT INTO spaces VALUES (1, 'ns');"
            "PRAGMA user_version = 2;"
        )
        raw.executemany("INSERT INTO entries VALUES (1, ?, ?, 4000000000, ?)",
                        [(k, v, f'"{k}"') for k, v in values.items()])


async def test_a_version_2_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "kv.sqlite3"
    values = {f"k{i:03d}": (LARGE if i % 3 else b"s" * 100) + str(i).encode() for i in range(300)}
    _make_v2(path, values)
    assert _count(path, "PRAGMA page_size") == 4096
    async with SqliteStore(path) as store:
        got = await store.scan("ns", values=True)
        assert {r.key: r.value for r in got} == values
        assert all(r.expiration == 4000000000 and r.metadata == f'"{r.key}"' for r in got)
        await store.put("ns", "k001", b"x")  # the triggers came with the migration
    assert _count(path, "PRAGMA user_version") == SCHEMA_VERSION == 3
    assert _count(path, "SELECT count(*) FROM blobs") == 199
    assert _count(path, "PRAGMA page_size") == PAGE_SIZE_BYTES
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
