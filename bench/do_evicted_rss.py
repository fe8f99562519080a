"""Resident memory after Durable Objects are evicted, with and without giving the freed
heap back to the OS (not collected by pytest).

    .venv/bin/python bench/do_evicted_rss.py [--objects N]

Each case runs in a fresh process: N SQLite-backed objects are created, each stores and
reads a value (which opens its SQLite file and caches), then all are evicted. RSS
(``/proc/self/statm``) is printed before, while live and after eviction, for the plain
eviction (the baseline) and with ``edgekv.server.memory.release_freed_heap`` installed as
the runtime's ``on_evicted`` hook, as ``edgekv dev``/``serve`` install it. Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# bench/http.py would shadow the standard library's http when this folder is sys.path[0]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]


class Holder:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx

    async def put_get(self, value: int) -> Any:
        await self.ctx.storage.put("v", value)
        return await self.ctx.storage.get("v")


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def _case(objects: int, trim: bool) -> dict[str, float]:
    from edgekv.durable_objects import DurableObjectRuntime
    from edgekv.server.memory import release_freed_heap
    from edgekv.storage import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'kv.sqlite3'}")
        rt = DurableObjectRuntime(store, str(Path(tmp) / "state"), idle_timeout_seconds=0)
        if trim:
            rt.on_evicted = release_freed_heap
        ns = rt.namespace("M", Holder, unique_key="bench-Rss", sqlite=True)
        await ns.getByName("warm").put_get(0)
        rt.evict_idle(0)
        gc.collect()
        before = _rss_mib()
        for i in range(objects):
            await ns.getByName(f"m{i}").put_get(i)
        live = _rss_mib()
        rt.evict_idle(0)
        gc.collect()
        after = _rss_mib()
        await rt.close()
        await store.close()
    return {"before": before, "live": live, "after": after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--case", choices=["plain", "trim"], default=None)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(asyncio.run(_case(args.objects, args.case == "trim"))))
        return
    results = {}
    for case in ("plain", "trim"):
        out = subprocess.run([sys.executable, __file__, "--objects", str(args.objects), "--case", case],
                             check=True, capture_output=True, text=True).stdout
        results[case] = json.loads(out)
    print(f"{args.objects:,} SQLite-backed objects created, used, evicted (RSS in MiB)")
    for case, row in results.items():
        print(f"  {case:6} before {row['before']:7.1f}  live {row['live']:7.1f}  "
              f"after eviction {row['after']:7.1f}  kept {row['after'] - row['before']:7.1f}")
    kept_plain = results["plain"]["after"] - results["plain"]["before"]
    kept_trim = results["trim"]["after"] - results["trim"]["before"]
    print(f"  kept after eviction, trim/plain: {kept_trim / kept_plain:.2f}" if kept_plain > 0 else "")


if __name__ == "__main__":
    main()
