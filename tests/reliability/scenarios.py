"""The kill -9 attacks, shared by the test suite (small counts) and bench/reliability.py
(large counts). Each scenario returns ``Tally(trials, acknowledged, lost)``.

Every process is started here and stopped by its pid (``os.kill(pid, SIGKILL)``), never by
name. An acknowledged write is one whose HTTP response (or CLI exit status 0) arrived
before the kill; it is lost if it cannot be read back after the server restarts.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.reliability._procs import EDGEKV, kill9

__all__ = ["SCENARIOS", "Server", "Tally", "make_attack_project"]

TOML = """\
name = "attack"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "KV", id = "0123456789abcdef0123456789abcdef" }]

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""
ENTRY = """\
import time
from urllib.parse import parse_qs, urlsplit
from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    async def fetch(self, request):
        op = urlsplit(request.url).path.rsplit("/", 1)[1]
        storage = self.ctx.storage
        if op == "inc":
            count = (await storage.get("count") or 0) + 1
            await storage.put("count", count)
            return Response(str(count))
        if op == "tx":
            async def bump(txn):
                a = (await txn.get("a") or 0) + 1
                await txn.put("a", a)
                await txn.put("b", (await txn.get("b") or 0) + 1)
                return a
            return Response(str(await storage.transaction(bump)))
        if op == "alarm":
            await storage.setAlarm(time.time() * 1000 + 1500)
            return Response("set")
        a, b = await storage.get("a") or 0, await storage.get("b") or 0
        return Response(f"{await storage.get('count') or 0} {a} {b}")

    async def alarm(self):
        await self.env.KV.put("alarm:" + self.ctx.id.name, "fired")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/kv/put":
            await self.env.KV.put(query["key"], "v")
            return Response("ok")
        if url.path == "/kv/get":
            return Response(await self.env.KV.get(query["key"]) or "", status=200)
        if url.path.startswith("/do/"):
            return await self.env.COUNTER.getByName(query["name"]).fetch(request)
        return Response("not found", status=404)
"""


@dataclass
class Tally:
    trials: int = 0
    acknowledged: int = 0
    lost: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.trials += other.trials
        self.acknowledged += other.acknowledged
        self.lost += other.lost
        self.notes += other.notes


def make_attack_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "wrangler.toml").write_text(TOML, encoding="utf-8")
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "entry.py").write_text(ENTRY, encoding="utf-8")
    return root


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``edgekv dev`` on a free port, its output read in a thread."""

    def __init__(self, project: Path, *extra: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*EDGEKV, "dev", str(project), "--port", str(self.port), "--no-watch",
             "--log-level", "warn", *extra],
            cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self._ready: queue.Queue[bool] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if "Ready on" in line:
                self._ready.put(True)
        self._ready.put(False)

    def wait_ready(self, timeout: float = 60) -> None:
        if not self._ready.get(timeout=timeout):
            raise RuntimeError("edgekv dev did not start:\n" + "\n".join(self.lines))

    def kill9(self) -> None:
        kill9(self.proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


def _writer(url: str, paths: list[str], acked: list[str], stop: threading.Event) -> None:
    """Send ``paths`` one after another until stopped; note each acknowledged one."""
    with httpx.Client(base_url=url, timeout=5) as http:
        for path in paths:
            if stop.is_set():
                return
            try:
                response = http.post(path)
            except httpx.HTTPError:
                return  # the server is gone
            if response.status_code == 200:
                acked.append(response.text if path.startswith("/do/") else path)


def _run_until_killed(server: Server, paths: list[str], rng: random.Random) -> list[str]:
    acked: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=_writer, args=(server.url, paths, acked, stop), daemon=True)
    thread.start()
    time.sleep(rng.uniform(0.2, 1.2))
    server.kill9()
    stop.set()
    thread.join(timeout=10)
    return acked


def http_kv_writes(workdir: Path, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    project = make_attack_project(workdir / "http-kv")
    for trial in range(trials):
        server = Server(project)
        server.wait_ready()
        acked = _run_until_killed(server, [f"/kv/put?key=t{trial}-{i}" for i in range(100_000)], rng)
        keys = [path.split("=", 1)[1] for path in acked]
        check = Server(project)
        check.wait_ready()
        with httpx.Client(base_url=check.url, timeout=10) as http:
            lost = [k for k in keys if http.get("/kv/get", params={"key": k}).text != "v"]
        check.stop()
        tally.add(Tally(1, len(keys), len(lost), [f"lost {lost[:3]}"] if lost else []))
    return tally


def _do_counts(project: Path, name: str) -> tuple[int, int, int]:
    check = Server(project)
    check.wait_ready()
    try:
        with httpx.Client(base_url=check.url, timeout=10) as http:
            count, a, b = map(int, http.get("/do/get", params={"name": name}).text.split())
    finally:
        check.stop()
    return count, a, b


def do_increments(workdir: Path, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    project = make_attack_project(workdir / "do-inc")
    for trial in range(trials):
        name = f"inc{trial}"
        server = Server(project)
        server.wait_ready()
        acked = _run_until_killed(server, [f"/do/inc?name={name}"] * 100_000, rng)
        last = int(acked[-1]) if acked else 0
        count, _, _ = _do_counts(project, name)
        tally.add(Tally(1, len(acked), max(0, last - count)))
    return tally


def do_transactions(workdir: Path, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    project = make_attack_project(workdir / "do-tx")
    for trial in range(trials):
        name = f"tx{trial}"
        server = Server(project)
        server.wait_ready()
        acked = _run_until_killed(server, [f"/do/tx?name={name}"] * 100_000, rng)
        last = int(acked[-1]) if acked else 0
        _, a, b = _do_counts(project, name)
        torn = a != b  # a transaction half applied counts as lost
        tally.add(Tally(1, len(acked), max(0, last - a) + (1 if torn else 0),
                        [f"torn transaction a={a} b={b}"] if torn else []))
    return tally


def alarms_after_kill(workdir: Path, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    project = make_attack_project(workdir / "alarm")
    for trial in range(trials):
        name = f"alarm{trial}"
        server = Server(project)
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=10) as http:
            acked = http.post("/do/alarm", params={"name": name}).text == "set"
        time.sleep(rng.uniform(0.0, 0.5))
        server.kill9()
        check = Server(project)
        check.wait_ready()
        fired = False
        with httpx.Client(base_url=check.url, timeout=10) as http:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not fired:
                fired = http.get("/kv/get", params={"key": f"alarm:{name}"}).text == "fired"
                time.sleep(0.1)
        check.stop()
        tally.add(Tally(1, int(acked), int(acked and not fired)))
    return tally


def bulk_put_kills(workdir: Path, trials: int, rng: random.Random) -> Tally:
    import json
    import sqlite3

    from edgekv.storage.sqlite import VALUE_SQL

    tally = Tally()
    project = make_attack_project(workdir / "bulk")
    db = project / ".edgekv" / "kv.sqlite3"
    for trial in range(trials):
        items = [{"key": f"b{trial}-{i:05d}", "value": "x" * 200} for i in range(20_000)]
        (project / "bulk.json").write_text(json.dumps(items))
        env = {**os.environ, "NO_COLOR": "1"}
        proc = subprocess.Popen([*EDGEKV, "kv", "bulk", "put", "bulk.json", "--binding", "KV"], cwd=project,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 3.0))
        finished = proc.poll() == 0
        kill9(proc)
        present = 0
        if db.exists():
            conn = sqlite3.connect(db)
            try:
                present = conn.execute(f"SELECT count({VALUE_SQL}) FROM entries WHERE key LIKE ?",
                                       (f"b{trial}-%",)).fetchone()[0]
            finally:
                conn.close()
        torn = present not in (0, len(items))
        lost = (len(items) - present if finished else 0) + (1 if torn else 0)
        tally.add(Tally(1, len(items) if finished else 0, lost,
                        [f"bulk put left {present} of {len(items)} items"] if torn else []))
    return tally


def cli_beside_server(workdir: Path, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    project = make_attack_project(workdir / "beside")
    server = Server(project)
    server.wait_ready()
    try:
        acked: list[str] = []
        stop = threading.Event()
        paths = [f"/kv/put?key=http-{i}" for i in range(100_000)]
        thread = threading.Thread(target=_writer, args=(server.url, paths, acked, stop), daemon=True)
        thread.start()
        cli_keys = []
        env = {**os.environ, "NO_COLOR": "1"}
        for trial in range(trials):
            key = f"cli-{trial}"
            done = subprocess.run([*EDGEKV, "kv", "key", "put", key, "v", "--binding", "KV"], cwd=project,
                                  env=env, capture_output=True, timeout=60, check=False)
            if done.returncode == 0:
                cli_keys.append(key)
            else:
                tally.notes.append(done.stderr.decode(errors="replace")[-200:])
        stop.set()
        thread.join(timeout=10)
        keys = cli_keys + [path.split("=", 1)[1] for path in acked]
        with httpx.Client(base_url=server.url, timeout=10) as http:
            lost = [k for k in keys if http.get("/kv/get", params={"key": k}).text != "v"]
        tally.add(Tally(trials, len(keys), len(lost) + (trials - len(cli_keys))))
    finally:
        server.stop()
    return tally


def two_servers(workdir: Path, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    project = make_attack_project(workdir / "two")
    first = Server(project)
    first.wait_ready()
    try:
        for _ in range(trials):
            second = Server(project)
            code = second.proc.wait(timeout=60)
            refused = code == 1 and any("is in use by another edgekv server" in line for line in second.lines)
            # a second owner that starts is a way to lose writes: count it as one lost write
            tally.add(Tally(1, 0, 0 if refused else 1, [] if refused else ["a second server started"]))
            if second.proc.poll() is None:
                second.kill9()
    finally:
        first.stop()
    return tally


SCENARIOS: dict[str, Any] = {
    "kill -9 during bulk put": bulk_put_kills,
    "kill -9 during HTTP KV writes": http_kv_writes,
    "kill -9 during DO increments": do_increments,
    "kill -9 during DO transactions": do_transactions,
    "kill -9 after setAlarm": alarms_after_kill,
    "two servers on one folder": two_servers,
    "CLI writes beside a server": cli_beside_server,
}
