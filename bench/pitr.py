"""Point-in-time recovery benchmark (not collected by pytest).

    .venv/bin/python bench/pitr.py [--events N] [--bound-kib K]

Measures, in one run, for a SQLite-backed object whose events each write one KV pair and one
SQL row:
- events/s with PITR history on, against the same workload with ``pitr_enabled=False``
  (the baseline; the ratio is the cost of keeping history);
- history bytes per committed transaction (unbounded);
- the history size with ``pitr_max_history_bytes`` = K KiB after N events (the bound holds:
  it stays within K KiB plus one base snapshot) and the time to restore the oldest kept point.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from typing import Any

from edgekv.durable_objects import DEFAULT_DO_LIMITS, DurableObjectRuntime
from edgekv.durable_objects.pitr import format_bookmark
from edgekv.storage import open_store


class Writer:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (i INTEGER PRIMARY KEY, v TEXT)")

    async def write(self, i: int) -> None:
        await self.ctx.storage.put(f"k{i % 50}", {"i": i, "payload": "x" * 64})
        self.ctx.storage.sql.exec("INSERT OR REPLACE INTO rows VALUES (?, ?)", i % 200, "y" * 64)

    async def restore_oldest(self, bookmark: str) -> None:
        await self.ctx.storage.onNextSessionRestoreBookmark(bookmark)

    async def count(self) -> int:
        return int(self.ctx.storage.sql.exec("SELECT count(*) AS c FROM rows").one()["c"])


async def run(events: int, limits: Any) -> tuple[float, Any, DurableObjectRuntime, Any]:
    store = open_store("memory://")
    rt = DurableObjectRuntime(store, tempfile.mkdtemp(prefix="edgekv-pitr-"), limits=limits)
    ns = rt.namespace("W", Writer, unique_key="bench-Writer", sqlite=True)
    stub = ns.getByName("w")
    await stub.write(-1)
    started = time.perf_counter()
    for i in range(events):
        await stub.write(i)
    rate = events / (time.perf_counter() - started)
    entry = rt._hosts["bench-Writer"].entries[ns.idFromName("w").toString()]
    return rate, entry.state.storage._db.history, rt, store


async def main(events: int, bound_kib: int) -> None:
    off_rate, _, rt, store = await run(events, replace(DEFAULT_DO_LIMITS, pitr_enabled=False))
    await rt.close()
    await store.close()
    on_rate, history, rt, store = await run(events, DEFAULT_DO_LIMITS)
    unbounded = history.size_bytes
    await rt.close()
    await store.close()
    bounded = replace(DEFAULT_DO_LIMITS, pitr_max_history_bytes=bound_kib * 1024)
    _, history, rt, store = await run(events, bounded)
    kept = history.size_bytes
    oldest, newest = history.bounds()
    ns = rt.get_namespace("W")
    started = time.perf_counter()
    await ns.getByName("w").restore_oldest(format_bookmark(oldest))
    rt.evict_idle(0)
    rows = await ns.getByName("w").count()
    restore_ms = (time.perf_counter() - started) * 1000
    await rt.close()
    await store.close()
    print(f"events: {events}")
    print(f"PITR off (baseline): {off_rate:10.0f} events/s")
    print(f"PITR on:             {on_rate:10.0f} events/s   ratio {on_rate / off_rate:.2f}")
    print(f"history, unbounded:  {unbounded:10d} bytes   {unbounded / (events + 1):.0f} bytes/txn")
    print(f"history, bound {bound_kib} KiB: {kept:10d} bytes   points {oldest}..{newest}"
          f"   within bound + snapshot: {kept <= bound_kib * 1024 + 64 * 1024}")
    print(f"restore oldest kept point and reopen: {restore_ms:.1f} ms ({rows} rows)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--bound-kib", type=int, default=256)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.bound_kib))
