"""REST API benchmark: ``edgekv serve`` against Miniflare's local explorer API, over HTTP.

    .venv/bin/python bench/rest_api.py [--quick] [--n1 2000] [--n10 6000] [--keys 1000]
                                       [--value-size 100] [--bulk 100000] [--no-peer]

Both servers answer Cloudflare's v4 KV routes: edgekv at ``/client/v4/accounts/{a}/storage/
kv/namespaces/...`` (every request carries a real API token, checked against the store, as in
production), Miniflare 4.20260426 at ``/cdn-cgi/explorer/api/storage/kv/namespaces/...`` once
started with its ``unsafeLocalExplorer`` option (``bench/_explorer.mjs``, no credential).
edgekv runs as the real ``edgekv serve`` subprocess over a temporary ``--persist-to`` folder
(account and token made with ``edgekv account create`` / ``token create``).

Measured, each with ``bench/_loadgen.py`` (its own process, keep-alive HTTP/1.1, one request
in flight per connection), Miniflare first then edgekv:

- value ``GET`` (``--keys`` keys of ``--value-size`` bytes) and raw-body value ``PUT``, at 1
  and 10 connections: requests/s, p50/p99 (a quarter as many PUTs: Miniflare writes slowly);
- keys-list pages/s: ``GET .../keys?prefix=k&limit=1000`` (each page lists 1,000 keys);
- bulk put of ``--bulk`` entries (100,000) in 10 ``PUT .../bulk`` requests, sequential over
  one connection (target: under 5 s). Miniflare's explorer has no bulk write: not measured;
- peak RSS of each server (process tree, sampled every 20 ms through the whole run).

Ratios are edgekv / Miniflare (req/s: higher is better for edgekv; p99: lower is). Caveat:
2 cores shared by client and server; Miniflare is node + workerd (several processes and
threads), edgekv serve one Python process.
"""

from __future__ import annotations

import os
import sys

# bench/http.py would shadow the stdlib ``http`` package: keep this folder last on sys.path.
_HERE = os.path.realpath(os.path.dirname(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE] + [_HERE]

import argparse
import http.client
import json
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _peer import BENCH, PEER_HOME, fmt_row, install_peer, load, merge, rss_tree

HOST = "127.0.0.1"
EXPLORER_NS = "be7c4e1a0d2b4f3a9c8d7e6f5a4b3c2e"
_READY = re.compile(r"Ready on http://[^:\s]+:(\d+)")
HEADER = (f"{'server / operation':<46} {'req/s':>9} {'rounds req/s':>15} {'p50 ms':>8} "
          f"{'p90 ms':>8} {'p99 ms':>8}")


def _edgekv(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "edgekv", *args], capture_output=True,
                          text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"edgekv {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None,
             conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, port, timeout=120)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if own:
        conn.close()
    return response.status, data


class Server:
    """A started server: ``port``, ``pid``, ``root`` (the namespace's URL path), ``headers``."""

    name = ""
    port = 0
    pid = 0
    root = ""
    headers: tuple[str, ...] = ()

    def header_dict(self) -> dict[str, str]:
        return dict(h.split(": ", 1) for h in self.headers)

    def stop(self) -> None:
        raise NotImplementedError


class EdgekvServe(Server):
    name = "edgekv serve"

    def __init__(self, folder: Path) -> None:
        state = folder / "state"
        created = _edgekv("account", "create", "--name", "bench", "--persist-to", str(state))
        account = re.search(r"Created account ([0-9a-f]{32})", created)
        assert account is not None, created
        self.account = account.group(1)
        made = _edgekv("token", "create", "--account", self.account, "--persist-to", str(state))
        secret = re.search(r"\(shown once, store it now\):\n\s+(\S+)", made)
        assert secret is not None, made
        self.headers = (f"Authorization: Bearer {secret.group(1)}",)
        self.log = folder / "serve.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "edgekv", "serve", "--persist-to", str(state),
                 "--ip", HOST, "--port", "0"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = _READY.search(self.log.read_text(errors="replace"))
            if found:
                self.port = int(found.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        else:
            found = None
        if not self.port:
            self.stop()
            raise RuntimeError(f"edgekv serve did not start:\n{self.log.read_text()[-3000:]}")
        self.accounts_root = f"/client/v4/accounts/{self.account}/storage/kv/namespaces"
        self.root = self.accounts_root + "/" + self.create_namespace("bench")

    def create_namespace(self, title: str) -> str:
        status, body = _request(self.port, "POST", self.accounts_root,
                                json.dumps({"title": title}).encode(),
                                {**self.header_dict(), "Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"namespace create answered {status}: {body[:300]!r}")
        return str(json.loads(body)["result"]["id"])

    def fill(self, keys: int, value: bytes) -> None:
        items = [{"key": f"k{i}", "value": value.decode()} for i in range(keys)]
        status, body = _request(self.port, "PUT", self.root + "/bulk", json.dumps(items).encode(),
                                {**self.header_dict(), "Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"bulk fill answered {status}: {body[:300]!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def miniflare_home() -> Path:
    """A folder with Miniflare 4.20260426 installed (the peer's, ``docs/peer.md``): the
    first of ``MINIFLARE_HOME`` and the peer's home that has it, else the peer installed
    by :func:`install_peer` (which says how to get it when it cannot)."""
    for candidate in (os.environ.get("MINIFLARE_HOME"), str(PEER_HOME)):
        if candidate and (Path(candidate) / "node_modules" / "miniflare").is_dir():
            return Path(candidate)
    return install_peer(PEER_HOME)


class MiniflareExplorer(Server):
    name = "Miniflare explorer"

    def __init__(self, folder: Path) -> None:
        from _peer import _free_port

        self.port = _free_port()
        self.log = folder / "explorer.log"
        env = {**os.environ, "MINIFLARE_HOME": str(miniflare_home()),
               "EXPLORER_PORT": str(self.port), "EXPLORER_NS": EXPLORER_NS,
               "CLOUDFLARE_CF_FETCH_ENABLED": "false", "NODE_ENV": "production"}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(["node", str(BENCH / "_explorer.mjs")], env=env,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while "explorer ready" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Miniflare did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        self.root = f"/cdn-cgi/explorer/api/storage/kv/namespaces/{EXPLORER_NS}"

    def fill(self, keys: int, value: bytes) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        for i in range(keys):
            status, body = _request(self.port, "PUT", f"{self.root}/values/k{i}", value, conn=conn)
            if status != 200:
                raise RuntimeError(f"explorer PUT answered {status}: {body[:300]!r}")
        conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # Miniflare.dispose() stops workerd too
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class PeakRss:
    """Samples the RSS of process trees every 20 ms in a thread; ``peak[pid]`` in bytes."""

    def __init__(self, pids: list[int]) -> None:
        self.peak = {pid: 0 for pid in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for pid in self.peak:
                self.peak[pid] = max(self.peak[pid], rss_tree(pid))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def measure(server: Server, path: str, *, n: int, c: int, keys: int, rounds: int,
            method: str = "GET", body_size: int = 0) -> dict[str, Any]:
    runs = [load(server.port, server.root + path, n=n, concurrency=c, keys=keys,
                 warmup=min(500, n), method=method, headers=server.headers, body_size=body_size)
            for _ in range(rounds)]
    return merge(runs)


def bulk_put(server: EdgekvServe, total: int, requests: int, value_size: int) -> dict[str, Any]:
    """``total`` entries in ``requests`` sequential ``PUT .../bulk`` requests, to a new namespace."""
    root = server.accounts_root + "/" + server.create_namespace(f"bulk-{time.time_ns()}")
    per = total // requests
    value = "v" * value_size
    bodies = [json.dumps([{"key": f"bulk/{r:02d}/{i:06d}", "value": value}
                          for i in range(per)]).encode() for r in range(requests)]
    headers = {**server.header_dict(), "Content-Type": "application/json"}
    conn = http.client.HTTPConnection(HOST, server.port, timeout=300)
    times = []
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        status, reply = _request(server.port, "PUT", root + "/bulk", body, headers, conn=conn)
        times.append(time.perf_counter() - t0)
        result = json.loads(reply).get("result") or {}
        if status != 200 or result.get("successful_key_count") != per:
            raise RuntimeError(f"bulk put answered {status}: {reply[:300]!r}")
    wall = time.perf_counter() - started
    conn.close()
    status, reply = _request(server.port, "GET", root + "/keys?limit=10&prefix=bulk/09/",
                             headers=server.header_dict())
    assert status == 200 and json.loads(reply)["result"], reply[:300]
    return {"entries": per * requests, "requests": requests, "wall_s": round(wall, 3),
            "entries_per_s": round(per * requests / wall), "slowest_request_s": round(max(times), 3),
            "body_mib": round(len(bodies[0]) / 2**20, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, one round")
    parser.add_argument("--n1", type=int, default=2000,
                        help="GET requests per round at c=1 (PUT: a quarter, lists: a tenth)")
    parser.add_argument("--n10", type=int, default=6000, help="the same at c=10")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--value-size", type=int, default=100)
    parser.add_argument("--bulk", type=int, default=100_000, help="entries in the bulk put")
    parser.add_argument("--no-peer", action="store_true", help="measure edgekv alone")
    args = parser.parse_args()
    if args.quick:
        args.n1, args.n10, args.rounds = 1000, 3000, 1
    value = b"v" * args.value_size
    print(f"bench/rest_api.py: {os.cpu_count()} cores, {args.rounds} round(s) of "
          f"n={args.n1:,} at c=1 and n={args.n10:,} at c=10; {args.keys:,} keys of "
          f"{args.value_size} B; bulk {args.bulk:,} entries in 10 requests", flush=True)

    with tempfile.TemporaryDirectory(prefix="edgekv-bench-api-") as tmp:
        folder = Path(tmp)
        servers: list[Server] = []
        peer: MiniflareExplorer | None = None
        ours = EdgekvServe(folder)
        try:
            print(f"edgekv serve on {HOST}:{ours.port} (pid {ours.pid})", flush=True)
            if not args.no_peer:
                try:
                    peer = MiniflareExplorer(folder)
                    print(f"Miniflare explorer API on {HOST}:{peer.port} (node pid {peer.pid})",
                          flush=True)
                except Exception as exc:  # noqa: BLE001 - edgekv alone is still worth a number
                    print(f"Miniflare: not available ({exc}); measuring edgekv alone")
            servers = [s for s in (peer, ours) if s is not None]
            sampler = PeakRss([s.pid for s in servers])
            for server in servers:
                server.fill(args.keys, value)  # type: ignore[attr-defined]

            results: dict[tuple[str, str, int], dict[str, Any]] = {}
            for c, n in ((1, args.n1), (10, args.n10)):
                for op, path, method, size, count in (
                        ("GET value", "/values/k{}", "GET", 0, n),
                        ("PUT value", "/values/w{}", "PUT", args.value_size, max(100, n // 4)),
                        ("list 1,000 keys", "/keys?prefix=k&limit=1000", "GET", 0, max(100, n // 10))):
                    for server in servers:
                        results[server.name, op, c] = measure(
                            server, path, n=count, c=c, keys=args.keys, rounds=args.rounds,
                            method=method, body_size=size)
                        print(fmt_row(f"{server.name} {op}, c={c}",
                                      results[server.name, op, c]), flush=True)
            bulk = bulk_put(ours, args.bulk, 10, args.value_size)
            sampler.stop()

            print()
            print(HEADER)
            ratios: dict[str, Any] = {}
            for c in (1, 10):
                for op in ("GET value", "PUT value", "list 1,000 keys"):
                    mine = results[ours.name, op, c]
                    theirs = results.get(("Miniflare explorer", op, c))
                    note = ""
                    if theirs is not None:
                        speed = mine["rps"] / theirs["rps"]
                        p99 = mine["p99_ms"] / theirs["p99_ms"]
                        ratios[f"{op}, c={c}"] = {"rps_x": round(speed, 2), "p99_x": round(p99, 2)}
                        note = f"x{speed:.2f} req/s, p99 x{p99:.2f}"
                        print(fmt_row(f"Miniflare explorer {op}, c={c}", theirs))
                    print(fmt_row(f"edgekv serve {op}, c={c}", mine, note))
            print()
            verdict = "PASS" if bulk["wall_s"] < 5 else "MISS"
            print(f"edgekv bulk put: {bulk['entries']:,} entries in {bulk['requests']} requests "
                  f"({bulk['body_mib']} MiB each): {bulk['wall_s']:.2f} s, "
                  f"{bulk['entries_per_s']:,} entries/s, slowest request "
                  f"{bulk['slowest_request_s']:.2f} s  [target < 5 s: {verdict}]")
            print("Miniflare bulk put: not measured (its explorer API has no bulk write route)")
            rss = {s.name: sampler.peak[s.pid] for s in servers}
            for name, peak in rss.items():
                print(f"peak RSS {name}: {peak / 2**20:.1f} MiB")
            if peer is not None and rss.get(peer.name):
                print(f"peak RSS ratio edgekv / Miniflare: "
                      f"{rss[ours.name] / rss[peer.name]:.2f}")
            print("notes: 2 cores shared by the load generator and the server; Miniflare is "
                  "node + workerd, edgekv serve one Python process; edgekv checks an API token "
                  "on every request, Miniflare's explorer has no credential.")
            summary = {
                "results": {f"{s} {op}, c={c}": r for (s, op, c), r in results.items()},
                "ratios_edgekv_over_miniflare": ratios, "bulk_put": bulk,
                "peak_rss_mib": {k: round(v / 2**20, 1) for k, v in rss.items()},
            }
            print(json.dumps(summary))
        finally:
            for server in (ours, peer):
                if server is not None:
                    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
