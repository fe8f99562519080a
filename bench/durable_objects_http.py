"""Durable Objects over HTTP through ``edgekv dev`` (the in-process figures: durable_objects.py).

    .venv/bin/python bench/durable_objects_http.py [--quick] [--n1 10000] [--n10 20000]
                                                   [--objects 1000] [--evict-wait 0]

A temporary project whose Worker routes
  ``/rpc/NAME``       -> ``await env.COUNTER.getByName(NAME).increment()``   (RPC, no storage)
  ``/storage/NAME``   -> ``await env.COUNTER.getByName(NAME).put_get(...)``  (SQLite-backed
                         object: ``ctx.storage.put`` then ``ctx.storage.get``, one round trip)
  ``/kvstorage/NAME`` -> the same on a KV-backed class (``new_classes``)
  ``/ping``           -> ``ok`` without any object (the baseline: HTTP + Worker floor)
is served by a real ``edgekv dev`` subprocess; the client is ``bench/_loadgen.py`` in its own
process (keep-alive, one request in flight per connection), at 1 and 10 connections, to one
object and spread over ``--objects`` names (request i goes to ``o{i % objects}``). Ratios are
to ``/ping`` on the same server in the same run (ratios, not absolute figures); there is no peer here
(the Miniflare peer serves KV only).

Memory: RSS of the dev process before the first object exists and after every route has run
(``--objects`` live objects of each class, SQLite files open). With ``--evict-wait S`` the
benchmark then stays idle S seconds (edgekv evicts objects idle for 70 s) and reports RSS
again; RSS rarely shrinks (allocator), so the per-object figure for idle-evicted objects is
the tracemalloc one of ``bench/durable_objects.py``. 2 cores: client and server compete.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/http.py would shadow the stdlib ``http`` package (http.client, used by _peer) while
# this folder is sys.path[0]. Move the folder to the end of sys.path.
_HERE = os.path.realpath(os.path.dirname(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE] + [_HERE]

from _peer import EdgekvDev, fmt_row, load, rss_tree

WRANGLER = """\
name = "bench-do"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[durable_objects.bindings]]
name = "KV_COUNTER"
class_name = "KVCounter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
new_classes = ["KVCounter"]
"""

ENTRY = '''\
from urllib.parse import urlsplit

from workers import DurableObject, Response, WorkerEntrypoint

__all__ = ["Counter", "Default", "KVCounter"]

PAYLOAD = "x" * 64


class Counter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.n = 0

    async def increment(self, by=1):
        self.n += by
        return self.n

    async def put_get(self):
        self.n += 1
        await self.ctx.storage.put("k", {"i": self.n, "payload": PAYLOAD})
        return (await self.ctx.storage.get("k"))["i"]


class KVCounter(Counter):
    pass


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path.startswith("/rpc/"):
            n = await self.env.COUNTER.getByName(path[5:]).increment()
            return Response(str(n))
        if path.startswith("/storage/"):
            return Response(str(await self.env.COUNTER.getByName(path[9:]).put_get()))
        if path.startswith("/kvstorage/"):
            return Response(str(await self.env.KV_COUNTER.getByName(path[11:]).put_get()))
        if path == "/ping":
            return Response("ok")
        return Response("not found", status=404)
'''

HEADER = (f"{'route':<46} {'req/s':>9} {'':>15} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
          "  vs /ping")


def _fds(pid: int) -> int:
    """Open file descriptors of ``pid`` (SQLite files of live objects); -1 without psutil."""
    try:
        import psutil

        return int(psutil.Process(pid).num_fds())
    except Exception:  # noqa: BLE001 - a figure we can do without
        return -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 / 5,000 requests")
    parser.add_argument("--n1", type=int, default=10_000, help="requests at 1 connection")
    parser.add_argument("--n10", type=int, default=20_000, help="requests at 10 connections")
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--evict-wait", type=float, default=0.0,
                        help="seconds to stay idle at the end, then report RSS again")
    args = parser.parse_args()
    if args.quick:
        args.n1, args.n10 = 2_000, 5_000
    print(f"bench/durable_objects_http.py: {os.cpu_count()} cores, n={args.n1:,} at c=1, "
          f"n={args.n10:,} at c=10, spread over {args.objects:,} objects, "
          f"python {sys.version.split()[0]}")

    routes = [
        ("GET /ping (no object; baseline)", "/ping", 1),
        ("RPC increment(), one object", "/rpc/one", 1),
        (f"RPC increment(), {args.objects:,} objects", "/rpc/o{}", args.objects),
        ("storage put+get (SQLite), one object", "/storage/one", 1),
        (f"storage put+get (SQLite), {args.objects:,} obj", "/storage/o{}", args.objects),
        ("storage put+get (KV-backed), one object", "/kvstorage/one", 1),
        (f"storage put+get (KV-backed), {args.objects:,} obj", "/kvstorage/o{}",
         args.objects),
    ]
    results: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="edgekv-bench-do-") as tmp:
        root = Path(tmp)
        project = root / "project"
        (project / "src").mkdir(parents=True)
        (project / "wrangler.toml").write_text(WRANGLER)
        (project / "src" / "entry.py").write_text(ENTRY)
        with EdgekvDev(project, root / "state", root / "dev.log") as dev:
            print(f"edgekv dev on 127.0.0.1:{dev.port} (pid {dev.pid}), default logging")
            load(dev.port, "/ping", n=2000, concurrency=10, warmup=0)
            rss_start = rss_tree(dev.pid)
            fds_start = _fds(dev.pid)
            rss_steps: list[tuple[str, int]] = []
            for c, n in ((1, args.n1), (10, args.n10)):
                for label, path, keys in routes:
                    # warm-up of max(500, objects) touches every object before timing
                    results[path, c] = load(dev.port, path, n=n, concurrency=c, keys=keys,
                                            warmup=max(500, keys))
                    if c == 1:
                        rss_steps.append((label, rss_tree(dev.pid)))
            rss_live = rss_tree(dev.pid)
            fds_live = _fds(dev.pid)
            rss_evicted = fds_evicted = None
            if args.evict_wait > 0:
                time.sleep(args.evict_wait)
                rss_evicted = rss_tree(dev.pid)
                fds_evicted = _fds(dev.pid)

    print()
    print(HEADER)
    for c in (1, 10):
        base = results["/ping", c]
        for label, path, _ in routes:
            r = results[path, c]
            ratio = "1.00x" if path == "/ping" else f"{base['rps'] / r['rps']:.2f}x slower"
            print(fmt_row(f"{label}, c={c}", r, ratio))
    print()
    live_objects = 2 * args.objects + 2
    previous = rss_start
    for label, rss in rss_steps:
        print(f"RSS after {label + ':':<48} {rss / 2**20:7.1f} MiB "
              f"({(rss - previous) / 2**20:+.1f})")
        previous = rss
    print(f"edgekv dev RSS: {rss_start / 2**20:.1f} MiB before any object, "
          f"{rss_live / 2**20:.1f} MiB with {live_objects:,} objects live "
          f"(~{(rss_live - rss_start) / live_objects / 1024:.1f} KiB/object incl. SQLite "
          f"connections and caches); open fds {fds_start} -> {fds_live}")
    if rss_evicted is not None:
        print(f"after {args.evict_wait:.0f}s idle (idle eviction at 70 s): "
              f"{rss_evicted / 2**20:.1f} MiB, open fds {fds_evicted}")
    print("note: 2 cores shared by the client process and the server process.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
