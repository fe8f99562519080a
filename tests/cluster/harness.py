"""Several real ``edgekv serve --store postgresql://... --location NAME`` processes on free
ports, over one PostgreSQL schema: what tests/cluster and bench/cluster.py run.

Every location serves the same small Worker (``WORKER``): ``GET /kv/KEY?cacheTtl=N`` reads
through the KV binding (the location's edge cache) and answers the value with its
``cacheStatus`` in ``x-cache-status`` (404 when missing); ``PUT /kv/KEY?ttl=N`` writes;
``DELETE /kv/KEY`` deletes (both answer 503 with the binding's error text when the store
is down). ``/counter/NAME`` is a Durable Object's ``fetch`` (it counts, and echoes method
and body), ``/rpc/NAME?n=N`` its RPC ``add(n)`` (answering the count and
the pid of the process that ran it), ``/rpc-fail/NAME`` an RPC that raises.
``/room/NAME`` is a WebSocket upgrade to a chat-room object (hibernatable sockets: a welcome
naming the pid of the process it runs in, every message fanned out with that pid, ``bye``
closes with 4000; ``?deny`` refuses with 403), ``/room-closed/NAME`` the close it last
saw. With ``crons=True`` the Worker has a ``* * * * *`` trigger whose ``scheduled()`` writes
KV ``cron:PID``. Processes are stopped by pid; every wait is bounded.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

__all__ = ["CRONS", "NAMESPACE_ID", "WORKER", "Cluster", "Location", "edgekv"]

NAMESPACE_ID = "c1a5e0000000000000000000000000aa"

WORKER = '''\
import os
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    async def fetch(self, request):
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put("count", count)
        return Response(f"{count} {request.method} {await request.text()}",
                        headers={"x-counter": str(count)})

    async def add(self, n):
        count = (await self.ctx.storage.get("count") or 0) + n
        await self.ctx.storage.put("count", count)
        return {"count": count, "pid": os.getpid()}

    async def fail(self):
        raise ValueError("the object said no")


class Room(DurableObject):
    async def fetch(self, request):
        if "deny" in parse_qs(urlparse(request.url).query, keep_blank_values=True):
            return Response("no room for you", status=403, headers={"x-room": "full"})
        client, server = WebSocketPair.new().object_values()
        self.ctx.acceptWebSocket(server)
        server.send(f"welcome {os.getpid()}")
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if message == "bye":
            ws.close(4000, "done")
            return
        for other in self.ctx.getWebSockets():
            other.send(f"{message} {os.getpid()}")

    async def webSocketClose(self, ws, code, reason, wasClean):
        await self.ctx.storage.put("closed", [code, reason])

    async def closed(self):
        return await self.ctx.storage.get("closed")


class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        await env.KV.put(f"cron:{os.getpid()}", str(controller.scheduledTime))

    async def fetch(self, request):
        url = urlparse(request.url)
        query = parse_qs(url.query)
        try:
            if url.path.startswith("/room/"):
                return await self.env.ROOMS.getByName(url.path[len("/room/"):]).fetch(request)
            if url.path.startswith("/room-closed/"):
                closed = await self.env.ROOMS.getByName(url.path[len("/room-closed/"):]).closed()
                return Response(repr(closed))
            if url.path.startswith("/counter/"):
                stub = self.env.COUNTER.getByName(url.path[len("/counter/"):])
                return await stub.fetch(request)
            if url.path.startswith("/rpc/"):
                stub = self.env.COUNTER.getByName(url.path[len("/rpc/"):])
                found = await stub.add(int(query["n"][0]))
                return Response(f"{found['count']} {found['pid']}")
            if url.path.startswith("/rpc-fail/"):
                await self.env.COUNTER.getByName(url.path[len("/rpc-fail/"):]).fail()
        except Exception as exc:
            return Response(f"{type(exc).__name__}: {exc}", status=500)
        if not url.path.startswith("/kv/"):
            return Response("not found", status=404)
        key = url.path[len("/kv/"):]
        kv = self.env.KV
        try:
            if request.method == "PUT":
                options = {}
                if "ttl" in query:
                    options["expirationTtl"] = int(query["ttl"][0])
                await kv.put(key, await request.text(), options)
                return Response("ok")
            if request.method == "DELETE":
                await kv.delete(key)
                return Response("ok")
        except Exception as exc:  # KV PUT failed: 503 Service Unavailable, the store is down
            return Response(str(exc), status=503)
        options = {"type": "text"}
        if "cacheTtl" in query:
            options["cacheTtl"] = int(query["cacheTtl"][0])
        try:
            found = await kv.getWithMetadata(key, options)
        except Exception as exc:
            return Response(str(exc), status=503)
        status = found.cacheStatus or ""
        if found.value is None:
            return Response("", status=404, headers={"x-cache-status": status})
        return Response(found.value, headers={"x-cache-status": status})
'''

WRANGLER = f'''\
name = "cluster"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
kv_namespaces = [{{ binding = "KV", id = "{NAMESPACE_ID}" }}]

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Room"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter", "Room"]
'''
CRONS = '''
[triggers]
crons = ["* * * * *"]
'''


def edgekv(*args: str, timeout: float = 60.0) -> str:
    """Run an ``edgekv`` command to completion; its output (fails loudly)."""
    done = subprocess.run([sys.executable, "-m", "edgekv", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"edgekv {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


@dataclass
class Location:
    """One running ``edgekv serve`` process."""

    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)  # added to the process's environment
    prefix: list[str] = field(default_factory=list)  # run through, e.g. ``ip netns exec NS``
    process: subprocess.Popen[str] | None = None
    url: str = ""
    output: list[str] = field(default_factory=list)

    def start(self, timeout: float = 60.0) -> None:
        self.output = []
        self.process = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "edgekv", *self.args], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        lines: queue.Queue[str] = queue.Queue()
        process = self.process

        def pump() -> None:
            for line in process.stdout:  # type: ignore[union-attr]
                self.output.append(line)
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None and lines.empty():
                self.kill()
                raise AssertionError(f"{self.name} did not start:\n" + "".join(self.output))
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            match = re.search(r"Ready on (http://\S+)", line)
            if match:
                self.url = match.group(1)
                return

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Cluster:
    """``count`` locations (the first is ``--primary``) over ``store_url``, with an admin
    token for the management endpoints."""

    def __init__(self, store_url: str, root: Path, count: int = 3, *, worker: bool = True,
                 extra_args: tuple[str, ...] = (), crons: bool = False,
                 env: dict[str, str] | None = None) -> None:
        self.store_url = store_url
        self.root = root
        self.project = root / "project"
        (self.project / "src").mkdir(parents=True, exist_ok=True)
        (self.project / "src" / "entry.py").write_text(WORKER)
        (self.project / "wrangler.toml").write_text(WRANGLER + (CRONS if crons else ""))
        created = edgekv("account", "create", "--name", "cluster", "--store", store_url,
                         "--persist-to", str(root / "admin"))
        self.account_id = re.search(r"Created account (\w+)", created).group(1)  # type: ignore[union-attr]
        made = edgekv("token", "create", "--account", self.account_id, "--admin", "--store", store_url,
                      "--persist-to", str(root / "admin"))
        self.token = re.search(r"CLOUDFLARE_API_TOKEN=(\S+)", made).group(1)  # type: ignore[union-attr]
        self.locations: list[Location] = []
        for index in range(count):
            name = f"loc{index}"
            args = ["serve"] + ([str(self.project)] if worker else []) + [
                "--port", "0", "--store", store_url, "--location", name,
                "--persist-to", str(root / name), *extra_args]
            if index == 0:
                args.append("--primary")
            self.locations.append(Location(name, args, dict(env or {})))

    def start(self) -> Self:
        try:
            for location in self.locations:
                location.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for location in self.locations:
            location.stop()

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
