"""The ``postgresql://`` store against raw asyncpg on the same server, and change-notice latency.

Run: ``.venv/bin/python bench/postgres.py [--ops 2000]`` (starts a throwaway cluster with
tests/pg.py, so PostgreSQL must be installed; as root it runs as the ``postgres`` user).

Operations are measured two ways on the same cluster in the same run:

- ``raw``: asyncpg running the plain statement on a table keyed ``(space, key bytea)``, with no
  versions, outbox or NOTIFY (the baseline, 1.00x);
- ``store``: ``PostgresStore``, which also takes a version, writes the outbox and notifies.

It then measures how long a write takes to reach another location's ``ChangeListener``
callback (median and 95th percentile).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from tests.pg import PostgresCluster, find_bindir

from edgekv.storage import Record
from edgekv.storage.postgres import Change, ChangeListener, PostgresStore

S = "0123456789abcdef0123456789abcdef"
VALUE = bytes(range(100))
PAGE = 1000


async def timed(n: int, op: Callable[[int], Awaitable[object]]) -> float:
    """Operations per second of ``op(i)`` for ``i`` in ``range(n)``, run one at a time."""
    started = time.perf_counter()
    for i in range(n):
        await op(i)
    return n / (time.perf_counter() - started)


async def run(cluster: PostgresCluster, ops: int) -> None:
    store = PostgresStore(cluster.url("bench_store"))
    await store.put(S, "warm", b"")
    raw = await asyncpg.connect(cluster.dsn())
    await raw.execute("CREATE TABLE raw_entries (space int, key bytea, value bytea, "
                      "expiration bigint, metadata text, PRIMARY KEY (space, key))")
    keys = [f"key:{i:08d}" for i in range(ops)]
    results: list[tuple[str, float, float]] = []

    async def raw_put(i: int) -> None:
        await raw.execute(
            "INSERT INTO raw_entries VALUES (1, $1, $2, NULL, NULL) ON CONFLICT (space, key) "
            "DO UPDATE SET value = EXCLUDED.value", keys[i].encode(), VALUE)

    async def store_put(i: int) -> None:
        await store.put(S, keys[i], VALUE)

    async def raw_get(i: int) -> None:
        await raw.fetchrow("SELECT value, expiration, metadata FROM raw_entries "
                           "WHERE space = 1 AND key = $1", keys[i].encode())

    async def store_get(i: int) -> None:
        await store.get(S, keys[i])

    async def raw_list(i: int) -> None:
        await raw.fetch("SELECT key, expiration, metadata FROM raw_entries WHERE space = 1 "
                        "AND key > $1 ORDER BY key LIMIT $2", b"key:", PAGE + 1)

    async def store_list(i: int) -> None:
        await store.scan_keys(S, prefix="key:", limit=PAGE + 1)

    for name, base, ours, n in [
        ("put (100 B)", raw_put, store_put, ops),
        ("get (hit)", raw_get, store_get, ops),
        (f"list page of {PAGE}", raw_list, store_list, max(ops // 20, 20)),
    ]:
        results.append((name, await timed(n, base), await timed(n, ours)))

    batch = [Record(f"batch:{i:05d}", VALUE) for i in range(1000)]
    started = time.perf_counter()
    await store.write_batch(S, puts=batch)
    batch_ms = (time.perf_counter() - started) * 1000

    # Notice latency: location B hears location A's write.
    other = PostgresStore(cluster.url("bench_store"))
    arrived: dict[str, float] = {}

    def heard(changes: list[Change]) -> None:
        now = time.perf_counter()
        for change in changes:
            if change.key is not None:
                arrived.setdefault(change.key, now)

    listener = ChangeListener(other, heard)
    await listener.start()
    lags = []
    for i in range(200):
        key = f"notice:{i}"
        sent = time.perf_counter()
        await store.put(S, key, b"")
        while key not in arrived:
            await asyncio.sleep(0.0005)
        lags.append((arrived[key] - sent) * 1000)
    await listener.stop()
    await other.close()
    await raw.close()
    await store.close()

    print(f"{'operation':<22}{'raw ops/s':>12}{'store ops/s':>13}{'ratio':>8}")
    for name, base, ours in results:
        print(f"{name:<22}{base:>12.0f}{ours:>13.0f}{ours / base:>7.2f}x")
    print(f"write_batch of 1000 x 100 B: {batch_ms:.0f} ms")
    lags.sort()
    print(f"put -> other location's listener: median {statistics.median(lags):.2f} ms, "
          f"p95 {lags[int(len(lags) * 0.95)]:.2f} ms (200 writes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000)
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL is not installed (scripts/install-postgres.sh)")
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
        asyncio.run(run(cluster, args.ops))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
