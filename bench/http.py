"""HTTP benchmark: ``edgekv dev`` against the Miniflare peer, one KV ``get`` per request.

    .venv/bin/python bench/http.py [--quick] [--n1 20000] [--n10 50000] [--keys 1000]
                                   [--value-size 100] [--no-quiet] [--no-peer]

Both servers run the same Worker logic: ``GET /get?key=K`` answers ``env.KV.get(K)`` (404
when missing); ``GET /ping`` answers ``ok`` without KV (the HTTP + runtime floor). The peer
is the JavaScript Worker of the peer kit (``docs/peer.md``) on Miniflare/workerd; edgekv serves an
equivalent Python Worker from a temporary project as a real ``edgekv dev`` subprocess
(``--persist-to`` a temporary folder, keys loaded beforehand with ``edgekv kv bulk put``; the
peer is filled through its ``/put?key=`` route). Same keys, same value size.

The client is ``bench/_loadgen.py`` in its own process (keep-alive, one request in flight per
connection, no pipelining), the same for both servers, run at 1 and 10 connections, the peer
first then edgekv at each concurrency. Target: edgekv >= 3x the peer's requests/s with a lower
p99 at both concurrencies (PASS/MISS). Memory: RSS of the edgekv dev process after warm-up
and after 100,000 requests in total.

Server CPU per request (``--cpu-rounds``, first): the floor is ``bench/_floor.py``, a bare
ASGI app on the same uvicorn settings (httptools, uvloop, no access log) reading the same row
of the same SQLite file with the same PRAGMAs and answering the same body and headers. A
second floor runs the same app on edgekv's one-write-per-response HTTP protocol
(``_floor.py --one-write``): the ratio to it is the cost of edgekv's own layers alone. For
each server, the (user + system) CPU time of its process (``/proc/PID/stat``) is read before
and after a run of ``--cpu-n`` requests at ``--cpu-c`` connections (after a warm-up), and
divided by the requests served. Runs alternate floor, one-write floor, edgekv, edgekv
without access log, ``--cpu-rounds`` times; the medians are printed with the ratio to the floor (target: edgekv
within 1.25x). CPU time per request is robust to other load on the machine; requests/s,
printed next to it, is not (the client shares the cores). ``--cpu-only`` stops there.

Caveats printed with the results: the machine has 2 cores, so the client competes with the
server for CPU; the peer is node (Miniflare) + workerd, several processes and threads that can
use both cores, while edgekv dev is one Python process (one event loop). ``edgekv dev`` logs
one line per request; it has no flag to turn that off, so a second edgekv run starts the same
CLI with the ``edgekv.dev`` logger at WARNING to show what the access log costs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# This file is named http.py: as sys.path[0] its folder would shadow the stdlib ``http``
# package (http.client, used by _peer). Move the folder to the end of sys.path.
_HERE = os.path.realpath(os.path.dirname(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE] + [_HERE]

from _kv_worker import ENTRY, NAMESPACE_ID, WRANGLER
from _peer import (
    BareFloor,
    EdgekvDev,
    Peer,
    cpu_seconds,
    edgekv_cli,
    fmt_row,
    load,
    merge,
    rss_tree,
)

PREFIX = "bench/k"
CPU_TARGET = 1.25  # edgekv's server CPU per request, at most this many times the floor's
HEADER = (f"{'server / route':<46} {'req/s':>9} {'rounds req/s':>15} {'p50 ms':>8} "
          f"{'p90 ms':>8} {'p99 ms':>8}")


def make_project(root: Path, keys: int, value: str) -> tuple[Path, Path]:
    project = root / "project"
    (project / "src").mkdir(parents=True)
    (project / "wrangler.toml").write_text(WRANGLER)
    (project / "src" / "entry.py").write_text(ENTRY)
    state = root / "state"
    data = root / "keys.json"
    data.write_text(json.dumps([{"key": f"{PREFIX}{i}", "value": value} for i in range(keys)]))
    edgekv_cli("kv", "bulk", "put", str(data), "--binding", "KV", "--persist-to", str(state),
               cwd=project)
    return project, state


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def cpu_floor(root: Path, project: Path, state: Path, path: str, args: Any) -> None:
    """Server CPU time per request: edgekv dev (access log on and off) against the floor."""
    n, c = args.cpu_n, args.cpu_c
    # One edgekv server per state folder (it holds a lock on it): the quiet one gets a copy.
    quiet_state = root / "state-cpu-quiet"
    if not quiet_state.exists():
        shutil.copytree(state, quiet_state)
    with contextlib.ExitStack() as stack:
        servers = {
            "floor": stack.enter_context(
                BareFloor(state / "kv.sqlite3", NAMESPACE_ID, root / "floor.log")),
            "floor1": stack.enter_context(
                BareFloor(state / "kv.sqlite3", NAMESPACE_ID, root / "floor1.log",
                          one_write=True)),
            "edgekv": stack.enter_context(EdgekvDev(project, state, root / "cpu-dev.log")),
            "quiet": stack.enter_context(
                EdgekvDev(project, quiet_state, root / "cpu-quiet.log", quiet_access_log=True)),
        }
        print(f"CPU per request: {args.cpu_rounds} rounds of {n:,} GET /get at c={c} per "
              f"server, alternating; floor pid {servers['floor'].pid}, edgekv pid "
              f"{servers['edgekv'].pid}, edgekv without access log pid {servers['quiet'].pid}")
        for server in servers.values():
            load(server.port, path, n=2000, concurrency=c, keys=args.keys, warmup=0)
        cpu: dict[str, list[float]] = {name: [] for name in servers}
        rps: dict[str, list[float]] = {name: [] for name in servers}
        for _ in range(args.cpu_rounds):
            for name, server in servers.items():
                before = cpu_seconds(server.pid)
                result = load(server.port, path, n=n, concurrency=c, keys=args.keys, warmup=0)
                spent = cpu_seconds(server.pid) - before
                # warmup=0 still sends one request per connection before the measured ones
                cpu[name].append(spent / (n + c) * 1e6)
                rps[name].append(result["rps"])
    floor_us = _median(cpu["floor"])
    labels = {"floor": "floor (bare ASGI + sqlite3, no log)",
              "floor1": "floor on edgekv's one-write protocol",
              "edgekv": "edgekv dev, access log on",
              "quiet": "edgekv dev, access log off"}
    print(f"{'server':<40} {'CPU us/req':>11} {'rounds':>13} {'x floor':>8} {'req/s':>8}")
    for name in servers:
        us = _median(cpu[name])
        spread = f"{min(cpu[name]):.0f}-{max(cpu[name]):.0f}"
        print(f"{labels[name]:<40} {us:>11.1f} {spread:>13} {us / floor_us:>8.2f} "
              f"{_median(rps[name]):>8,.0f}")
    ratio = _median(cpu["edgekv"]) / floor_us
    quiet = _median(cpu["quiet"]) / floor_us
    one_write = _median(cpu["floor1"])
    verdict = "PASS" if ratio <= CPU_TARGET else "MISS"
    print(f"edgekv / floor server CPU per request: {ratio:.2f}x with the access log, "
          f"{quiet:.2f}x without (target <= {CPU_TARGET}x: {verdict}); medians of "
          f"{args.cpu_rounds} rounds, CPU = user+system time of the server process / requests; "
          "req/s is shared-core noise")
    print(f"against the floor on the same one-write protocol ({one_write:.1f} us): "
          f"{_median(cpu['edgekv']) / one_write:.2f}x with the access log, "
          f"{_median(cpu['quiet']) / one_write:.2f}x without (the cost of edgekv's own layers)")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="3,000 / 6,000 requests, 20,000 for the memory check")
    parser.add_argument("--n1", type=int, default=20_000, help="requests at 1 connection")
    parser.add_argument("--n10", type=int, default=50_000, help="requests at 10 connections")
    parser.add_argument("--rounds", type=int, default=3,
                        help="split each n into this many runs, alternating the servers")
    parser.add_argument("--mem-requests", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--value-size", type=int, default=100)
    parser.add_argument("--no-quiet", action="store_true",
                        help="skip the edgekv server with the access log turned off")
    parser.add_argument("--no-peer", action="store_true", help="measure edgekv alone")
    parser.add_argument("--peer-home", default=None, help="default: $PEER_HOME or ~/.cache/edgekv-peer")
    parser.add_argument("--cpu-rounds", type=int, default=5,
                        help="rounds of the CPU-per-request comparison with the floor (0: skip)")
    parser.add_argument("--cpu-n", type=int, default=5000, help="requests per CPU run")
    parser.add_argument("--cpu-c", type=int, default=10, help="connections of a CPU run")
    parser.add_argument("--cpu-only", action="store_true",
                        help="only the CPU-per-request comparison with the floor")
    args = parser.parse_args()
    if args.quick:
        args.n1, args.n10, args.mem_requests = 3_000, 6_000, 20_000
    value = "v" * args.value_size
    path = f"/get?key={PREFIX}{{}}"
    print(f"bench/http.py: {os.cpu_count()} cores, n={args.n1:,} at c=1, n={args.n10:,} at "
          f"c=10 (each in {args.rounds} rounds, servers alternating), {args.keys:,} keys of "
          f"{args.value_size} B, python {sys.version.split()[0]}")

    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="edgekv-bench-")))
        project, state = make_project(root, args.keys, value)
        if args.cpu_rounds > 0:
            cpu_floor(root, project, state, path, args)
            if args.cpu_only:
                return 0
        peer = stack.enter_context(Peer(args.peer_home, enabled=not args.no_peer))
        if peer.port is not None:
            peer.fill([f"{PREFIX}{i}" for i in range(args.keys)], value.encode())
            print(f"peer: Miniflare/workerd on 127.0.0.1:{peer.port} (node pid {peer.pid})")
        else:
            print(f"peer: not available ({peer.why_not}); measuring edgekv alone")
        servers: dict[str, int] = {}
        if peer.port is not None:
            servers["peer"] = peer.port
        dev = stack.enter_context(EdgekvDev(project, state, root / "dev.log"))
        servers["edgekv"] = dev.port
        print(f"edgekv dev on 127.0.0.1:{dev.port} (pid {dev.pid}), default logging "
              "(one access line per request, stdout to a file)")
        if not args.no_quiet:
            quiet_state = root / "state-quiet"  # one server per state folder (its lock)
            shutil.copytree(state, quiet_state)
            quiet = stack.enter_context(
                EdgekvDev(project, quiet_state, root / "dev-quiet.log", quiet_access_log=True))
            servers["quiet"] = quiet.port
            print(f"edgekv dev on 127.0.0.1:{quiet.port} (pid {quiet.pid}), edgekv.dev "
                  "logger at WARNING (no access lines); a copy of the store")

        for port in servers.values():
            load(port, path, n=2000, concurrency=10, keys=args.keys, warmup=0)
        served = 2000
        rss_before = rss_tree(dev.pid)
        for route, rpath, keys in (("get", path, args.keys), ("ping", "/ping", 1)):
            for c, n in ((1, args.n1), (10, args.n10)):
                n = n if route == "get" else max(n // 2, 1000)
                per_round = max(n // args.rounds, 100)
                for _ in range(args.rounds):
                    for name, port in servers.items():
                        runs.setdefault((f"{name}-{route}", c), []).append(
                            load(port, rpath, n=per_round, concurrency=c, keys=keys))
                        if name == "edgekv":
                            served += per_round + 500
        t0 = time.perf_counter()
        rest = max(args.mem_requests - served, 0)
        if rest:
            load(dev.port, path, n=rest, concurrency=10, keys=args.keys, warmup=0)
            served += rest
        rss_after = rss_tree(dev.pid)
        mem_s = time.perf_counter() - t0
        log_lines = dev.log_lines()
        peer_rss = rss_tree(peer.pid) if peer.port is not None and peer.pid else 0

    results = {key: merge(value) for key, value in runs.items()}
    print()
    print(HEADER)
    verdicts = []
    for c in (1, 10):
        ours, theirs = results["edgekv-get", c], results.get(("peer-get", c))
        print(fmt_row(f"peer (Miniflare) GET /get, c={c}", theirs))
        if theirs is not None:
            ratio = ours["rps"] / theirs["rps"]
            ok = ratio >= 3.0 and ours["p99_ms"] < theirs["p99_ms"]
            verdicts.append(ok)
            note = (f"{ratio:.2f}x peer req/s, p99 {ours['p99_ms'] / theirs['p99_ms']:.2f}x "
                    f"peer's -> {'PASS' if ok else 'MISS'}")
        else:
            note = "no peer to compare with"
        print(fmt_row(f"edgekv dev GET /get, c={c}", ours, note))
        quiet_r = results.get(("quiet-get", c))
        if quiet_r is not None:
            print(fmt_row(f"edgekv dev, access log off, c={c}", quiet_r,
                          f"{quiet_r['rps'] / ours['rps']:.2f}x default logging"))
    for c in (1, 10):
        print(fmt_row(f"peer GET /ping (no KV), c={c}", results.get(("peer-ping", c))))
        print(fmt_row(f"edgekv dev GET /ping (no KV), c={c}", results["edgekv-ping", c]))
        if ("quiet-ping", c) in results:
            print(fmt_row(f"edgekv dev /ping, access log off, c={c}", results["quiet-ping", c]))
    print()
    print(f"edgekv dev RSS: {rss_before / 2**20:.1f} MiB after warm-up, "
          f"{rss_after / 2**20:.1f} MiB after {served:,} requests "
          f"({(rss_after - rss_before) / 2**20:+.1f} MiB; the last {rest:,} at c=10 took "
          f"{mem_s:.1f}s); {log_lines:,} log lines written")
    if peer_rss:
        print(f"peer RSS (node + workerd processes): {peer_rss / 2**20:.1f} MiB")
    print("notes: 2 cores shared by the client process and the server; the peer is node + "
          "workerd (several processes/threads, can use both cores), edgekv dev is one Python "
          "process. 'rounds req/s' is the min-max over the single runs.")
    if verdicts:
        overall = "PASS" if all(verdicts) else "MISS"
        print(f"target (edgekv >= 3x peer req/s and lower p99, at c=1 and c=10): {overall}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
