"""Durable Objects in-process benchmark (not collected by pytest).

    .venv/bin/python bench/durable_objects.py [--calls N]

Prints: RPC calls/s to one object and spread over 1,000 objects, against a baseline of a plain
``await obj.method()`` in the same run; storage put+get round trips/s on both backends, against
raw ``Store.put``+``Store.get``; and the memory kept per idle-evicted object (tracemalloc).
HTTP numbers through ``edgekv dev``: ``bench/durable_objects_http.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from edgekv.durable_objects import DurableObjectRuntime
from edgekv.storage import open_store


class Counter:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env
        self.n = 0

    async def increment(self, by: int = 1) -> int:
        self.n += by
        return self.n

    async def put_get(self, i: int) -> Any:
        await self.ctx.storage.put("k", {"i": i, "payload": "x" * 64})
        return await self.ctx.storage.get("k")


async def _rate(n: int, fn: Callable[[int], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    for i in range(n):
        await fn(i)
    return n / (time.perf_counter() - started)


async def main(calls: int) -> None:
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'store.db'}")
        rt = DurableObjectRuntime(store, str(Path(tmp) / "state"))
        kv_ns = rt.namespace("C", Counter, unique_key="bench-Counter")
        sql_ns = rt.namespace("S", Counter, unique_key="bench-SqlCounter", sqlite=True)
        await rt.start()

        plain = Counter(None, None)
        baseline = await _rate(calls, lambda i: plain.increment())
        rows.append(("plain await obj.increment() (baseline)", baseline, "1.00x"))

        one = kv_ns.getByName("one")
        rate = await _rate(calls, lambda i: one.increment())
        rows.append(("RPC to one object", rate, f"{baseline / rate:.1f}x slower"))

        stubs = [kv_ns.getByName(f"o{i}") for i in range(1000)]
        await asyncio.gather(*(s.increment() for s in stubs))  # construct them all first
        rate = await _rate(calls, lambda i: stubs[i % 1000].increment())
        rows.append(("RPC spread over 1,000 objects", rate, f"{baseline / rate:.1f}x slower"))

        concurrent = calls
        started = time.perf_counter()
        await asyncio.gather(*(stubs[i % 1000].increment() for i in range(concurrent)))
        rate = concurrent / (time.perf_counter() - started)
        rows.append(("RPC, 1,000 objects, all concurrent (gather)", rate, ""))

        raw = await _rate(calls // 4, lambda i: _raw_put_get(store, i))
        rows.append(("raw Store.put + Store.get (baseline)", raw, "1.00x"))
        for label, ns in (("KV-backed", kv_ns), ("SQLite-backed", sql_ns)):
            stub = ns.getByName("storage")
            rate = await _rate(calls // 4, lambda i, s=stub: s.put_get(i))
            rows.append((f"storage put+get via RPC, {label}", rate, f"{raw / rate:.2f}x raw"))

        await rt.close()
        rows.append(("bytes kept per idle-evicted object", await _evicted_memory(store, tmp), ""))
        await store.close()

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  vs baseline")
    for label, value, ratio in rows:
        unit = "" if label.startswith("bytes") else "/s"
        print(f"{label:<{width}}  {value:>10,.0f}{unit:<2}  {ratio}")


async def _raw_put_get(store: Any, i: int) -> Any:
    await store.put("bench-raw", "k", b'{"i":%d}' % i)
    return await store.get("bench-raw", "k")


async def _evicted_memory(store: Any, tmp: str, count: int = 2000) -> float:
    rt = DurableObjectRuntime(store, str(Path(tmp) / "state2"), idle_timeout_seconds=0)
    ns = rt.namespace("M", Counter, unique_key="bench-Mem", sqlite=True)
    stubs = [ns.getByName(f"m{i}") for i in range(count)]
    await stubs[0].increment()
    rt.evict_idle(0)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for stub in stubs:
        await stub.put_get(1)  # opens each object's SQLite file
    live = tracemalloc.get_traced_memory()[0]
    rt.evict_idle(0)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    kept = sum(s.size_diff for s in after.compare_to(before, "filename"))
    print(f"(while live: {live / count:,.0f} bytes/object traced; "
          f"registry entries after eviction: {rt.registry_size})")
    await rt.close()
    return max(kept, 0) / count


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().calls))
