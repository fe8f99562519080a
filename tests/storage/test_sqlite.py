"""SQLite-specific behaviour of storage/sqlite.py and storage/schema.py: schema versioning,
WAL, durability when the process is killed, and sharing one file between processes."""

from __future__ import annotations

import asyncio
import itertools
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from edgekv.clock import FakeClock
from edgekv.errors import StorageError
from edgekv.storage import LOCAL_ACCOUNT_ID, Record, open_store
from edgekv.storage.schema import SCHEMA_VERSION
from edgekv.storage.sqlite import SqliteStore

S = "space-1"


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    """Run ``code`` in a fresh interpreter of this venv, with pipes for stdin and stdout."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], expected: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != expected:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        pytest.fail(f"expected {expected!r} from the child, got {line!r}; stderr:\n{err}")


# -- schema and PRAGMAs ---------------------------------------------------------------------------


async def test_schema_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    store = SqliteStore(path)
    try:
        await store.put(S, "k", b"v")
        raw = sqlite3.connect(path)
        try:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
            assert {"spaces", "entries", "kv_namespaces"} <= tables
            ddl = raw.execute("SELECT sql FROM sqlite_master WHERE name = 'entries'").fetchone()
            assert "WITHOUT ROWID" in ddl[0]
        finally:
            raw.close()
        for conn in (store._loop_conn, store._waiting_conn):
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
            assert conn.in_transaction is False  # autocommit
    finally:
        await store.close()


async def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    async with SqliteStore(path) as store:
        await store.put(S, "k", b"v")
    async with SqliteStore(path) as store:
        assert await store.get(S, "k") == Record("k", b"v")
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


async def test_version_1_registry_is_migrated_to_the_local_account(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(
        "CREATE TABLE spaces (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
        "CREATE TABLE entries (space INTEGER NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
        " expiration INTEGER, metadata TEXT, PRIMARY KEY (space, key)) WITHOUT ROWID;"
        "CREATE TABLE kv_namespaces (id TEXT PRIMARY KEY, title TEXT NOT NULL UNIQUE,"
        " created_at REAL NOT NULL);"
        "INSERT INTO kv_namespaces VALUES ('" + "a" * 32 + "', 'old', 1.0);"
        "PRAGMA user_version = 1;"
    )
    raw.close()
    store = open_store(f"sqlite:///{path}")
    try:
        (info,) = await store.list_namespaces()
        assert (info.id, info.title, info.account_id) == ("a" * 32, "old", LOCAL_ACCOUNT_ID)
    finally:
        await store.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StorageError, match="newer"):
        SqliteStore(path)


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        SqliteStore(path)


async def test_open_store_url_and_parent_dirs(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "kv.sqlite3"
    store = open_store(f"sqlite:///{path}")
    assert isinstance(store, SqliteStore)
    await store.put(S, "k", b"v")
    await store.close()
    assert path.exists()


async def test_in_memory_sqlite(tmp_path: Path) -> None:
    store = open_store("sqlite:///:memory:", clock=FakeClock())
    await store.put(S, "k", b"v")
    await store.write_batch(S, puts=[Record(f"b{i}", b"x") for i in range(100)])
    assert await store.get(S, "k") == Record("k", b"v")
    assert len(await store.scan(S)) == 101
    await store.close()
    await store.close()


async def test_closed_store_raises_storage_error(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "x.sqlite3")
    await store.close()
    with pytest.raises(StorageError):
        await store.get(S, "k")


# -- durability -----------------------------------------------------------------------------------

_WRITER = """
import asyncio, sys
from edgekv import open_namespace

async def main(url):
    async with open_namespace(url, "a" * 32) as kv:
        for i in range(1_000_000):
            key = f"key-{i:07}"
            await kv.put(key, f"value-{i}" * 10, metadata={"i": i})
            print(key, flush=True)

asyncio.run(main(sys.argv[1]))
"""


async def test_acknowledged_puts_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "kill.sqlite3"
    proc = spawn(_WRITER, f"sqlite:///{path}")
    acknowledged: list[str] = []
    assert proc.stdout is not None
    try:
        while len(acknowledged) < 200:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"the writer died early: {proc.communicate(timeout=10)[1]}")
            acknowledged.append(line.strip())
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    store = SqliteStore(path)
    try:
        found = await store.get_many("a" * 32, acknowledged[:100])
        found.update(await store.get_many("a" * 32, acknowledged[100:]))
        missing = [k for k in acknowledged if k not in found]
        assert missing == []
        for key in acknowledged:
            i = int(key.split("-")[1])
            assert found[key].value == f"value-{i}".encode() * 10
            assert found[key].metadata == f'{{"i":{i}}}'
    finally:
        await store.close()


# -- two processes --------------------------------------------------------------------------------

_LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
space = conn.execute("SELECT id FROM spaces WHERE name = ?", ("space-1",)).fetchone()[0]
conn.execute(
    "INSERT OR REPLACE INTO entries (space, key, value) VALUES (?, 'from-other', x'01')", (space,)
)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print("released", flush=True)
"""


async def test_another_process_holding_the_write_lock(tmp_path: Path) -> None:
    """Writes wait for the lock off the event loop; reads go on; no 'database is locked'."""
    path = tmp_path / "locked.sqlite3"
    store = SqliteStore(path)
    hold_seconds = 1.5
    try:
        await store.put(S, "before", b"1")
        await store.put("other-space", "x", b"1")  # a space the lock holder did not touch
        holder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            textwrap.dedent(_LOCK_HOLDER),
            str(path),
            str(hold_seconds),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert holder.stdout is not None
        assert (await holder.stdout.readline()).strip() == b"locked"
        locked_at = time.monotonic()

        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)

        tick_task = asyncio.create_task(ticker())
        # Reads are not blocked by a writer (WAL); they see the last committed state.
        assert await store.get(S, "before") == Record("before", b"1")
        assert await store.get(S, "from-other") is None
        assert len(await store.scan(S, limit=10)) == 1

        put_done: list[float] = []

        async def write() -> None:
            await store.put(S, "during", b"2")
            await store.write_batch(S, puts=[Record("batch", b"3")], deletes=["before"])
            await store.delete("other-space", "x")
            put_done.append(time.monotonic())

        writer = asyncio.create_task(write())
        # While the put waits, reads keep being served from the event loop.
        for _ in range(10):
            await asyncio.sleep(0.05)
            assert await store.get(S, "before") == Record("before", b"1")
        await asyncio.wait_for(writer, timeout=30)
        released = (await holder.stdout.readline()).strip()
        assert released == b"released"
        assert await holder.wait() == 0
        tick_task.cancel()

        assert put_done[0] - locked_at >= hold_seconds - 0.3  # it really waited for the lock
        window = [t for t in ticks if t <= put_done[0]]
        gaps = [b - a for a, b in itertools.pairwise(window)]
        assert len(window) >= 30  # the loop ticked all along (≈ every 20 ms)
        assert max(gaps) < 0.25, f"the event loop stalled for {max(gaps):.3f} s"
        assert await store.get(S, "from-other") == Record("from-other", b"\x01")
        assert await store.get(S, "during") == Record("during", b"2")
        assert await store.get(S, "batch") == Record("batch", b"3")
        assert await store.get(S, "before") is None
        assert await store.get("other-space", "x") is None
    finally:
        await store.close()


async def test_lock_held_by_a_thread_in_this_process(tmp_path: Path) -> None:
    """Same contract when the other writer is a thread with its own connection."""
    path = tmp_path / "locked.sqlite3"
    store = SqliteStore(path)
    try:
        await store.put(S, "k", b"0")
        ready = asyncio.Event()
        loop = asyncio.get_running_loop()

        def hold() -> None:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            loop.call_soon_threadsafe(ready.set)
            time.sleep(1.0)
            conn.execute("COMMIT")
            conn.close()

        holder = asyncio.create_task(asyncio.to_thread(hold))
        await ready.wait()
        start = time.monotonic()
        await store.put(S, "k", b"1")
        assert time.monotonic() - start >= 0.7
        assert await store.get(S, "k") == Record("k", b"1")
        await holder
    finally:
        await store.close()


_OPENER = """
import asyncio, sys, time
from edgekv.storage.sqlite import SqliteStore

async def main(path, tag, start_at):
    while time.time() < start_at:  # all children open the fresh file at the same moment
        pass
    store = SqliteStore(path)
    for i in range(200):
        await store.put("shared", f"{tag}-{i:04}", b"x")
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
"""


@pytest.mark.parametrize("round_", range(3))
async def test_processes_opening_a_fresh_file_together(tmp_path: Path, round_: int) -> None:
    """Creating the schema races with the other openers: nobody sees "database is locked"."""
    path = tmp_path / "fresh.sqlite3"
    start_at = str(time.time() + 0.8)  # after every interpreter has started
    procs = [spawn(_OPENER, str(path), f"p{n}", start_at) for n in range(4)]
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
    finally:
        for proc in procs:
            proc.kill()
    async with SqliteStore(path) as store:
        assert len(await store.scan("shared")) == 4 * 200


_CONCURRENT_WRITER = """
import asyncio, sys
from edgekv.storage.sqlite import SqliteStore

async def main(path, tag, count):
    store = SqliteStore(path)
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        await store.put("shared", f"{tag}-{i:04}", f"{tag}:{i}".encode())
        if i % 50 == 0:
            await store.get("shared", f"{tag}-{i:04}")
    await store.write_batch("shared", puts=[])
    await store.close()
    print("done", flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    SqliteStore(path)  # create the schema first, so the children race on writes only
    count = 2000  # enough that the two writers overlap for a while
    procs = [spawn(_CONCURRENT_WRITER, str(path), tag, str(count)) for tag in ("p1", "p2")]
    try:
        for proc in procs:
            wait_for_line(proc, "ready")
        for proc in procs:  # release both at once
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert out.strip() == "done"
            assert "locked" not in err
    finally:
        for proc in procs:
            proc.kill()
    store = SqliteStore(path)
    try:
        records = await store.scan("shared", values=True)
        assert len(records) == 2 * count
        expected = {f"{t}-{i:04}": f"{t}:{i}".encode() for t in ("p1", "p2") for i in range(count)}
        assert {r.key: r.value for r in records} == expected
    finally:
        await store.close()


async def test_concurrent_tasks_in_one_store(tmp_path: Path) -> None:
    """Many tasks mixing small and large writes on one store: every write lands."""
    store = SqliteStore(tmp_path / "x.sqlite3")
    try:
        big = b"x" * (2 << 20)  # large values take the thread path

        async def task(n: int) -> None:
            for i in range(20):
                value = big if i % 10 == 0 else f"{n}:{i}".encode()
                await store.put(S, f"t{n}-{i:02}", value)
            await store.write_batch(S, puts=[Record(f"t{n}-b{j:03}", b"b") for j in range(100)])

        await asyncio.gather(*(task(n) for n in range(8)))
        assert len(await store.scan(S)) == 8 * (20 + 100)
    finally:
        await store.close()
