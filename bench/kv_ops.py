"""In-process KV throughput on the SQLite backend, as ratios to raw ``sqlite3``.

Run: ``.venv/bin/python bench/kv_ops.py [--keys 100000] [--seconds 1.5]``

Both sides use a file in a temporary directory, the same table layout (a WITHOUT ROWID table
keyed ``(space, key)``), the same PRAGMAs (WAL, synchronous=NORMAL) and autocommit, and are
filled with the same keys and 100-byte values. Each operation is measured three ways:

- ``raw``: a plain ``sqlite3`` loop running the equivalent statement (the baseline, 1.00x);
- ``store``: ``SqliteStore`` (the storage engine) from an asyncio coroutine;
- ``kv``: the ``KVNamespace`` binding over that store (validation, decoding, JsDicts).

Targets (ratios against a baseline measured in the same run, docs/architecture.md) are judged on ``kv``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

from edgekv.kv import KVNamespace
from edgekv.kv.cursor import encode_cursor
from edgekv.storage import Record
from edgekv.storage.sqlite import SqliteStore

NAMESPACE = "0123456789abcdef0123456789abcdef"
VALUE = bytes(range(100))  # 100 bytes
FILL_BATCH = 5_000
PAGE = 1000
BULK = 100
TARGETS = {"get (hit)": 0.3, "put (100 B)": 0.2, f"list page of {PAGE}": 0.5}

RAW_SCHEMA = """
CREATE TABLE entries (
    space      INTEGER NOT NULL,
    key        TEXT NOT NULL,
    value      BLOB NOT NULL,
    expiration INTEGER,
    metadata   TEXT,
    PRIMARY KEY (space, key)
) WITHOUT ROWID
"""


def key_name(i: int) -> str:
    return f"key-{i:07}"


def measure_sync(op: Callable[[int], object], seconds: float) -> float:
    """Operations per second of ``op(i)`` called in a loop for about ``seconds``."""
    for i in range(50):  # warm up caches and statement cache
        op(i)
    done, chunk = 0, 64
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for i in range(done, done + chunk):
            op(i)
        done += chunk
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


async def measure_async(op: Callable[[int], Awaitable[object]], seconds: float) -> float:
    for i in range(50):
        await op(i)
    done, chunk = 0, 64
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for i in range(done, done + chunk):
            await op(i)
        done += chunk
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


class Workload:
    """Random choices shared by the three sides, so they do identical work."""

    def __init__(self, n_keys: int) -> None:
        rng = random.Random(42)
        self.n = 1 << 16
        self.hits = [key_name(rng.randrange(n_keys)) for _ in range(self.n)]
        self.misses = [f"missing-{rng.randrange(10**9):09}" for _ in range(self.n)]
        self.page_starts = [key_name(rng.randrange(max(1, n_keys - PAGE))) for _ in range(self.n)]
        self.bulks = [[key_name(rng.randrange(n_keys)) for _ in range(BULK)] for _ in range(256)]

    def hit(self, i: int) -> str:
        return self.hits[i % self.n]

    def miss(self, i: int) -> str:
        return self.misses[i % self.n]

    def page_start(self, i: int) -> str:
        return self.page_starts[i % self.n]

    def bulk(self, i: int) -> list[str]:
        return self.bulks[i % len(self.bulks)]


# -- raw sqlite3 ---------------------------------------------------------------------------


def raw_open(path: Path, n_keys: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-16000")  # as SqliteStore
    conn.execute(RAW_SCHEMA)
    for lo in range(0, n_keys, FILL_BATCH):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO entries (space, key, value) VALUES (1, ?, ?)",
            ((key_name(i), VALUE) for i in range(lo, min(n_keys, lo + FILL_BATCH))),
        )
        conn.execute("COMMIT")
    return conn


def raw_ops(conn: sqlite3.Connection, w: Workload) -> dict[str, Callable[[int], object]]:
    now = int(time.time())
    get_sql = "SELECT value, expiration, metadata FROM entries WHERE space = ? AND key = ?"
    put_sql = (
        "INSERT OR REPLACE INTO entries (space, key, value, expiration, metadata) "
        "VALUES (?, ?, ?, ?, ?)"
    )
    list_sql = (
        "SELECT key, expiration, metadata FROM entries WHERE space = ? AND key > ? "
        "AND (expiration IS NULL OR expiration > ?) ORDER BY key LIMIT ?"
    )
    bulk_sql = (
        "SELECT key, value, expiration, metadata FROM entries WHERE space = ? AND key IN ("
        + ",".join("?" * BULK)
        + ")"
    )
    return {
        "get (hit)": lambda i: conn.execute(get_sql, (1, w.hit(i))).fetchone(),
        "get (miss)": lambda i: conn.execute(get_sql, (1, w.miss(i))).fetchone(),
        "put (100 B)": lambda i: conn.execute(put_sql, (1, w.hit(i), VALUE, None, None)),
        f"list page of {PAGE}": lambda i: conn.execute(
            list_sql, (1, w.page_start(i), now, PAGE + 1)
        ).fetchall(),
        f"bulk get of {BULK}": lambda i: conn.execute(bulk_sql, (1, *w.bulk(i))).fetchall(),
    }


# -- edgekv ----------------------------------------------------------------------------------


def store_ops(store: SqliteStore, w: Workload) -> dict[str, Callable[[int], Awaitable[object]]]:
    return {
        "get (hit)": lambda i: store.get(NAMESPACE, w.hit(i)),
        "get (miss)": lambda i: store.get(NAMESPACE, w.miss(i)),
        "put (100 B)": lambda i: store.put(NAMESPACE, w.hit(i), VALUE),
        f"list page of {PAGE}": lambda i: store.scan(
            NAMESPACE, start_after=w.page_start(i), limit=PAGE + 1
        ),
        f"bulk get of {BULK}": lambda i: store.get_many(NAMESPACE, w.bulk(i)),
    }


def kv_ops(kv: KVNamespace, w: Workload) -> dict[str, Callable[[int], Awaitable[object]]]:
    cursors = [encode_cursor(k) for k in w.page_starts]
    return {
        "get (hit)": lambda i: kv.get(w.hit(i)),
        "get (miss)": lambda i: kv.get(w.miss(i)),
        "put (100 B)": lambda i: kv.put(w.hit(i), VALUE),
        f"list page of {PAGE}": lambda i: kv.list(limit=PAGE, cursor=cursors[i % w.n]),
        f"bulk get of {BULK}": lambda i: kv.get(w.bulk(i)),
    }


async def fill_store(store: SqliteStore, n_keys: int) -> None:
    await store.ensure_namespace(NAMESPACE, "bench")
    for lo in range(0, n_keys, FILL_BATCH):
        await store.write_batch(
            NAMESPACE,
            puts=[Record(key_name(i), VALUE) for i in range(lo, min(n_keys, lo + FILL_BATCH))],
        )


def fmt_rate(rate: float) -> str:
    return f"{rate:>11,.0f}/s"


async def run(n_keys: int, seconds: float, only: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="edgekv-bench-"))
    w = Workload(n_keys)

    tracemalloc.start()
    started = time.perf_counter()
    store = SqliteStore(tmp / "edgekv.sqlite3")
    await fill_store(store, n_keys)
    fill_seconds = time.perf_counter() - started
    _, fill_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    started = time.perf_counter()
    raw = raw_open(tmp / "raw.sqlite3", n_keys)
    raw_fill_seconds = time.perf_counter() - started
    kv = KVNamespace(store, NAMESPACE)

    print(f"edgekv kv_ops: {n_keys:,} keys of {len(VALUE)} B, {seconds} s per measurement")
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, files in {tmp}")
    print(
        f"fill: edgekv write_batch {fill_seconds:.2f} s (under tracemalloc), "
        f"raw executemany {raw_fill_seconds:.2f} s\n"
    )
    header = (
        f"{'operation':<20}{'raw sqlite3':>14}{'store':>14}{'ratio':>8}"
        f"{'kv binding':>14}{'ratio':>8}{'target':>9}  result"
    )
    print(header)
    print("-" * len(header))
    raws, stores, kvs = raw_ops(raw, w), store_ops(store, w), kv_ops(kv, w)
    for name in raws:
        if only and only not in name:
            continue
        raw_rate = measure_sync(raws[name], seconds)
        store_rate = await measure_async(stores[name], seconds)
        kv_rate = await measure_async(kvs[name], seconds)
        target = TARGETS.get(name)
        kv_ratio = kv_rate / raw_rate
        verdict = "" if target is None else ("PASS" if kv_ratio >= target else "MISS")
        target_text = "" if target is None else f">={target:.1f}x"
        print(
            f"{name:<20}{fmt_rate(raw_rate)}{fmt_rate(store_rate)}{store_rate / raw_rate:>7.2f}x"
            f"{fmt_rate(kv_rate)}{kv_ratio:>7.2f}x{target_text:>9}  {verdict}"
        )

    tracemalloc.start()
    for name in kvs:
        for i in range(200):
            await kvs[name](i)
    _, ops_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print()
    print(f"tracemalloc peak: fill {fill_peak / 2**20:.1f} MiB, ops {ops_peak / 2**20:.1f} MiB")
    print(f"ru_maxrss: {maxrss_kib / 1024:.1f} MiB (whole process, incl. SQLite page caches)")

    raw.close()
    await store.close()
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000, help="keys pre-filled (100000)")
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per measurement")
    parser.add_argument("--only", help="run only the operations whose name contains this")
    args = parser.parse_args()
    asyncio.run(run(args.keys, args.seconds, args.only))


if __name__ == "__main__":
    main()
