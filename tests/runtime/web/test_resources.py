"""Each WorkerRuntime owns its HTTP pool, ASGI lifespans and background tasks.

Two runtimes in one process and one event loop: closing one must leave the other able to
fetch, serve its ASGI app (whose lifespan keeps running) and finish streamed responses.
"""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from edgekv.clock import FakeClock
from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime

WORKER = """\
import asyncio
from workers import Response, WorkerEntrypoint, fetch, asgi

EVENTS = []


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                EVENTS.append("startup")
                scope["state"]["who"] = "NAME"
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                EVENTS.append("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    if scope["path"] == "/stream":
        # More than one message: the rest is produced by a background task the runtime keeps.
        for part in (b"a", b"b", b"c"):
            await asyncio.sleep(0.01)
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.body", "body": scope["state"]["who"].encode()})


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/up"):  # outbound fetch through this runtime's pool
            reply = await fetch(self.env.UPSTREAM + "/hello")
            return Response("NAME got " + await reply.text())
        return await asgi.fetch(app, request, self.env)
"""


async def upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(upstream, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "upstream server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


async def open_worker(root: Path, name: str, upstream: str) -> WorkerRuntime:
    (root / "src").mkdir(parents=True)
    # Distinct module names: both Workers live in one process's sys.modules.
    (root / "src" / f"worker_{name}.py").write_text(textwrap.dedent(WORKER.replace("NAME", name)))
    (root / "wrangler.toml").write_text(
        f'name = "w{name}"\nmain = "src/worker_{name}.py"\ncompatibility_date = "2026-11-01"\n'
        'compatibility_flags = ["python_workers"]\n')
    return await WorkerRuntime.open(load_config(root), store_url="memory://",
                                    clock=FakeClock(1_800_000_000.0),
                                    vars_override={"UPSTREAM": upstream})


async def get(runtime: WorkerRuntime, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=runtime.asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.get(path)


@pytest.fixture
async def two(tmp_path: Path, upstream_url: str) -> AsyncIterator[tuple[WorkerRuntime, ...]]:
    a = await open_worker(tmp_path / "a", "a", upstream_url)
    try:
        b = await open_worker(tmp_path / "b", "b", upstream_url)
    except BaseException:
        await a.close()
        raise
    yield a, b
    await a.close()
    await b.close()


async def exercise(runtime: WorkerRuntime, name: str) -> None:
    assert (await get(runtime, "/up")).text == f"{name} got hello"
    assert (await get(runtime, "/app")).text == name
    assert (await get(runtime, "/stream")).text == "abc"


async def test_closing_one_runtime_leaves_the_other_working(
    two: tuple[WorkerRuntime, WorkerRuntime],
) -> None:
    a, b = two
    await exercise(a, "a")
    await exercise(b, "b")
    events_a = a.worker.module.EVENTS  # type: ignore[union-attr]
    events_b = b.worker.module.EVENTS  # type: ignore[union-attr]
    assert events_a == ["startup"] and events_b == ["startup"]  # one lifespan per runtime

    await a.close()
    assert events_a == ["startup", "shutdown"]  # a's lifespan ended with a
    assert events_b == ["startup"]  # b's did not
    assert a.resources.closed and not b.resources.closed

    await exercise(b, "b")  # b's pool, lifespan and tasks are its own
    assert events_b == ["startup"]
    await b.close()
    assert events_b == ["startup", "shutdown"]


async def test_close_cancels_a_stream_still_being_produced(
    two: tuple[WorkerRuntime, WorkerRuntime],
) -> None:
    a, b = two
    await a.fetch("http://localhost/app")  # the lifespan starts
    response = await a.fetch("http://localhost/stream")  # returned after its first message
    await a.close()  # the producing task belonged to a: cancelled, not leaked
    with pytest.raises(RuntimeError, match="closed"):
        a.resources.http_client()
    assert await response.text() == "a"  # the stream ended when its producer was cancelled
    await exercise(b, "b")
