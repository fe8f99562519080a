"""The request path of ``edgekv dev`` layer by layer, in one process, without sockets.

    .venv/bin/python bench/request_path.py [--n 20000] [--rounds 5]
    .venv/bin/python bench/request_path.py --instructions [--n 1000]   # needs valgrind

Where ``bench/http.py`` measures the whole server (uvicorn, the kernel, the client sharing the
cores), this drives the ASGI applications directly, the way uvicorn calls them (one task per
request, ten in flight), with the same request as the HTTP benchmark: ``GET
/get?key=bench/kN`` answered by ``env.KV.get`` in the same Python Worker. Each row adds one
layer of what ``edgekv dev`` stacks on the Worker, so the differences between rows are what
each layer costs:

- ``asgi app``: an ASGI callable that answers the same bytes without reading anything (the
  cost of the harness itself: a task, the scope, two sends);
- ``floor app``: ``bench/_floor.py``'s app (the floor of ``bench/http.py``), SQLite read and all;
- ``runtime``: ``WorkerRuntime.handle`` running the Worker;
- ``+ RequestLimits``, ``+ ManagementPaths``, ``+ AccessLog (off)``, ``+ AccessLog (on)``:
  the server's layers in the order ``edgekv dev`` stacks them, the access log last with its
  logger off and on (lines to the console, here ``/dev/null``).

By default each row is the median CPU time per request (``time.process_time``) of
``--rounds`` runs of ``--n`` requests, rows interleaved. ``--instructions`` instead counts the
instructions per request under valgrind's callgrind (two runs per row, ``--n`` requests apart,
the difference divided by ``--n``): slow (about a minute per row) but exact and unmoved by
other load on the machine, which makes it the measure to compare changes with.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/http.py would shadow the stdlib ``http`` package for anything imported from here.
_HERE = os.path.realpath(os.path.dirname(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE]

LAYERS = ["asgi app", "floor app", "runtime", "+ RequestLimits", "+ ManagementPaths",
          "+ AccessLog (off)", "+ AccessLog (on)"]
CONCURRENCY = 10
KEYS = 1000


def _scope(i: int) -> dict[str, Any]:
    path = "/get"
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "server": ("127.0.0.1", 8787),
            "client": ("127.0.0.1", 50000), "scheme": "http", "method": "GET",
            "root_path": "", "path": path, "raw_path": path.encode(),
            "query_string": f"key=bench/k{i % KEYS}".encode(),
            "headers": [(b"host", b"127.0.0.1:8787"), (b"user-agent", b"bench"),
                        (b"accept", b"*/*")]}


def _bench_module(name: str) -> Any:
    """A module of bench/ (bench/ is on sys.path only while it is imported: its http.py
    would shadow the stdlib's)."""
    sys.path.insert(0, _HERE)
    try:
        return importlib.import_module(name)
    finally:
        sys.path[:] = [p for p in sys.path if p != _HERE]  # (_floor takes it off itself)


async def _serve(layers: list[str], n: int, rounds: int,
                 warmup: int = 300) -> dict[str, list[float]]:
    """Run ``warmup`` requests per layer, then ``n`` per layer per round; CPU microseconds
    per request per layer."""
    _floor = _bench_module("_floor")
    worker = _bench_module("_kv_worker")

    from edgekv.config import load_config
    from edgekv.runtime.worker import WorkerRuntime
    from edgekv.server.access import AccessLog
    from edgekv.server.console import configure_logging
    from edgekv.server.limits import RequestLimits
    from edgekv.server.management import ManagementPaths, api_context

    root = Path(tempfile.mkdtemp(prefix="edgekv-request-path-"))
    try:
        (root / "src").mkdir()
        (root / "src" / "entry.py").write_text(worker.ENTRY)
        (root / "wrangler.toml").write_text(worker.WRANGLER)
        runtime = await WorkerRuntime.open(load_config(root),
                                           store_url=f"sqlite:///{root}/kv.sqlite3",
                                           state_dir=root / "state")
        for i in range(KEYS):
            await runtime.env.KV.put(f"bench/k{i}", "v" * 100)
        body = b"v" * 100

        async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/plain;charset=UTF-8"), (b"content-length", b"100")]})
            await send({"type": "http.response.body", "body": body})

        api = api_context(runtime.kv_store, open_without_credential=True)
        limits = RequestLimits(runtime.asgi_app)
        managed = ManagementPaths(limits, api)
        logged = AccessLog(managed)
        apps = {"asgi app": asgi_app,
                "floor app": _floor.make_app(str(root / "kv.sqlite3"), worker.NAMESPACE_ID),
                "runtime": runtime.asgi_app, "+ RequestLimits": limits,
                "+ ManagementPaths": managed, "+ AccessLog (off)": logged,
                "+ AccessLog (on)": logged}
        configure_logging("log")
        access = logging.getLogger("edgekv.dev")

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            return None

        loop = asyncio.get_running_loop()

        async def run(name: str, count: int) -> None:
            access.setLevel(logging.INFO if name == "+ AccessLog (on)" else logging.WARNING)
            app = apps[name]
            for i in range(0, count, CONCURRENCY):
                tasks = [loop.create_task(app(_scope(i + j), receive, send))
                         for j in range(CONCURRENCY)]
                for task in tasks:
                    await task

        for name in layers:
            await run(name, warmup)
        spent: dict[str, list[float]] = {name: [] for name in layers}
        for _ in range(rounds):
            for name in layers:
                started = time.process_time()
                await run(name, n)
                spent[name].append((time.process_time() - started) / max(n, 1) * 1e6)
        limits.close()
        await runtime.close()
        return spent
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _instructions(layer: str, n: int) -> int:
    """Instructions per request of ``layer`` under callgrind (two runs, ``n`` apart)."""
    counts = []
    for requests in (0, n):
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             __file__, "--one", layer, "--n", str(requests)],
            capture_output=True, text=True, timeout=1800, check=False)
        found = [line for line in done.stderr.splitlines() if "Collected :" in line]
        if done.returncode != 0 or not found:
            raise RuntimeError(f"callgrind run failed: {done.stderr[-2000:]}")
        counts.append(int(found[-1].split(":")[-1].strip().replace(",", "")))
    return (counts[1] - counts[0]) // n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=None,
                        help="requests per run (default 20,000; 1,000 with --instructions)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per request with valgrind (slow, exact)")
    parser.add_argument("--one", choices=LAYERS, help=argparse.SUPPRESS)  # a callgrind run
    args = parser.parse_args()
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the access lines go nowhere
    report = sys.__stdout__
    assert report is not None
    if args.one is not None:  # the same set-up and warm-up in both runs; only n differs
        asyncio.run(_serve([args.one], args.n or 0, 1))
        return 0
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("valgrind is not installed (apt-get install valgrind)", file=report)
            return 1
        n = args.n or 1000
        print(f"instructions per request (callgrind, {n:,} requests, python "
              f"{sys.version.split()[0]}):", file=report)
        floor = None
        for layer in LAYERS:
            count = _instructions(layer, n)
            floor = count if layer == "floor app" else floor
            ratio = f"{count / floor:6.2f}x floor app" if floor else ""
            print(f"  {layer:<20} {count:>9,} {ratio}", file=report, flush=True)
        return 0
    n = args.n or 20_000
    spent = asyncio.run(_serve(LAYERS, n, args.rounds))
    floor = _median(spent["floor app"])
    print(f"CPU per request in process ({args.rounds} rounds of {n:,} requests, "
          f"{CONCURRENCY} in flight, median; python {sys.version.split()[0]}):", file=report)
    for layer in LAYERS:
        us = _median(spent[layer])
        print(f"  {layer:<20} {us:7.1f} us  {us / floor:5.2f}x floor app", file=report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
