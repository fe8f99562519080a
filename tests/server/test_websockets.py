"""WebSockets through the real DevServer (uvicorn's websockets support) and a real client.

Stands for python-workers-examples ``15-chatroom`` (a Durable Object per room that accepts
``WebSocketPair`` server ends with ``ctx.acceptWebSocket`` and fans messages out with
``ctx.getWebSockets()``) and for a Worker that accepts a pair itself
(``server.accept()`` + ``addEventListener``). The room object is evicted while its clients
stay connected; the next message wakes a new instance, which still finds every socket, its
tags and its serialized attachment.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.dev import DevServer

TOML = """\
name = "chat"
main = "src/entry.py"
compatibility_date = "2025-11-02"
compatibility_flags = ["python_workers"]
[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Room"
[[migrations]]
tag = "v1"
new_sqlite_classes = ["Room"]
"""

ENTRY = """\
import json
from urllib.parse import urlparse, parse_qs

from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response, WorkerEntrypoint

CONSTRUCTED = []


class Room(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        CONSTRUCTED.append(self)
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

    async def fetch(self, request):
        if (request.headers.get("Upgrade") or "").lower() != "websocket":
            return Response("Expected WebSocket upgrade", status=400)
        user = parse_qs(urlparse(request.url).query).get("user", ["anon"])[0]
        client, server = WebSocketPair.new().object_values()
        self.ctx.acceptWebSocket(server, [user, "member"])
        server.serializeAttachment({"user": user})
        server.send(json.dumps({"type": "system", "text": f"welcome {user}"}))
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        user = ws.deserializeAttachment()["user"]
        out = json.dumps({"type": "message", "user": user, "text": message,
                          "instances": len(CONSTRUCTED),
                          "tags": self.ctx.getTags(ws)})
        for other in self.ctx.getWebSockets():
            other.send(out)

    async def webSocketClose(self, ws, code, reason, wasClean):
        ws.close(code, reason)
        for other in self.ctx.getWebSockets("member"):
            other.send(json.dumps({"type": "left", "code": code}))


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/echo":
            client, server = WebSocketPair.new().object_values()
            server.accept()

            def on_message(event):
                server.send("echo:" + event.data)
                if event.data == "bye":
                    server.close(4000, "done")

            server.addEventListener("message", on_message)
            return Response(None, status=101, web_socket=client)
        if path.startswith("/room/"):
            stub = self.env.ROOMS.getByName(path[len("/room/"):])
            return await stub.fetch(request)
        return Response("not found", status=404)
"""


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, WorkerRuntime]]:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "wrangler.toml").write_text(TOML)
    runtime = await WorkerRuntime.open(load_config(tmp_path, cwd=tmp_path, environ={}),
                                       store_url="memory://")
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, on_ready=ready.set_result,
                       run_crons=False)
    serving = asyncio.create_task(server.serve())
    url = await asyncio.wait_for(ready, 10)
    yield url.replace("http://", "ws://"), runtime
    server.stop()
    await asyncio.wait_for(serving, 10)


async def _next(ws) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_worker_accepts_a_pair_itself(served: tuple[str, WorkerRuntime],
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edgekv")
    base, _ = served
    async with connect(base + "/echo") as ws:
        await ws.send("hi")
        assert await asyncio.wait_for(ws.recv(), 5) == "echo:hi"
        await ws.send("bye")
        assert await asyncio.wait_for(ws.recv(), 5) == "echo:bye"
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert (ws.close_code, ws.close_reason) == (4000, "done")
    assert any(r.getMessage().startswith("GET /echo 101 Switching Protocols")
               for r in caplog.records)


async def test_chat_rooms_fan_out_and_wake_after_eviction(
    served: tuple[str, WorkerRuntime],
) -> None:
    base, runtime = served
    async with connect(base + "/room/lobby?user=ann") as ann, \
            connect(base + "/room/lobby?user=bob") as bob, \
            connect(base + "/room/other?user=cy") as cy:
        for ws, user in ((ann, "ann"), (bob, "bob"), (cy, "cy")):
            assert await _next(ws) == {"type": "system", "text": f"welcome {user}"}
        await ann.send("hello lobby")
        for ws in (ann, bob):
            got = await _next(ws)
            assert (got["user"], got["text"], got["tags"]) == ("ann", "hello lobby",
                                                               ["ann", "member"])
        await cy.send("alone here")
        assert (await _next(cy))["text"] == "alone here"
        with pytest.raises(TimeoutError):  # rooms are separate objects
            await asyncio.wait_for(ann.recv(), 0.3)

        # Hibernate: every instance goes; the sockets stay connected.
        assert runtime.durable_objects.evict_idle(0) >= 2
        assert runtime.durable_objects.live_objects == 0
        await bob.send("after eviction")
        for ws in (ann, bob):
            got = await _next(ws)
            assert (got["user"], got["text"]) == ("bob", "after eviction")
            assert got["instances"] >= 3  # a new Room instance was constructed

        await ann.send("ping")  # auto-response: answered without waking the object
        assert await asyncio.wait_for(ann.recv(), 5) == "pong"
        assert runtime.durable_objects.live_objects == 1

        await bob.close(1000, "bye")
        left = await _next(ann)
        assert left == {"type": "left", "code": 1000}


async def test_non_upgrade_answer_refuses_the_websocket(served: tuple[str, WorkerRuntime]) -> None:
    base, _ = served
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as info:
        async with connect(base + "/nowhere"):
            pass
    assert info.value.response.status_code == 404


FASTAPI_ENTRY = """\
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from workers import WorkerEntrypoint, asgi

app = FastAPI()
LOG = []


@app.get("/")
async def root():
    return {"ok": True}


@app.websocket("/ws/{room}")
async def chat(websocket: WebSocket, room: str):
    if room == "closed":
        await websocket.close(code=1008)
        return
    await websocket.accept()
    await websocket.send_text(f"joined {room}")
    try:
        while True:
            text = await websocket.receive_text()
            if text == "quit":
                await websocket.close(code=4001, reason="bye")
                return
            await websocket.send_text(text.upper())
    except WebSocketDisconnect as exc:
        LOG.append(exc.code)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if (request.headers.get("upgrade") or "").lower() == "websocket":
            return await asgi.websocket(app, request, self.env)
        return await asgi.fetch(app, request, self.env)
"""


async def test_fastapi_websocket_endpoint_through_asgi_websocket(tmp_path: Path) -> None:
    # workers-py SDK asgi.websocket (process_websocket): a FastAPI WebSocket route in a Worker
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(FASTAPI_ENTRY)
    (tmp_path / "wrangler.toml").write_text(
        'name = "fa"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n')
    runtime = await WorkerRuntime.open(load_config(tmp_path, cwd=tmp_path, environ={}),
                                       store_url="memory://")
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, on_ready=ready.set_result,
                       run_crons=False)
    serving = asyncio.create_task(server.serve())
    base = (await asyncio.wait_for(ready, 10)).replace("http://", "ws://")
    try:
        async with connect(base + "/ws/lobby") as ws:
            assert await asyncio.wait_for(ws.recv(), 5) == "joined lobby"
            await ws.send("hello")
            assert await asyncio.wait_for(ws.recv(), 5) == "HELLO"
            await ws.send("quit")
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert (ws.close_code, ws.close_reason) == (4001, "bye")
        from websockets.exceptions import InvalidStatus

        with pytest.raises(InvalidStatus) as info:
            async with connect(base + "/ws/closed"):
                pass
        assert info.value.response.status_code == 403
        async with connect(base + "/ws/second") as ws:
            assert await asyncio.wait_for(ws.recv(), 5) == "joined second"
        module = runtime.worker.module  # type: ignore[union-attr]
        for _ in range(50):
            if module.LOG:
                break
            await asyncio.sleep(0.05)
        assert module.LOG == [1000]  # the client's close reached the app as a disconnect
    finally:
        server.stop()
        await asyncio.wait_for(serving, 10)
