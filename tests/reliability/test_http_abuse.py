"""Attack: malformed, oversized, slow and vanishing HTTP clients
(docs/reliability.md, "The HTTP servers under abuse").

A real DevServer on a free port, a Worker, raw sockets where httpx would refuse to send
what an attacker sends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.dev import DevServer
from edgekv.server.limits import parse_size

TOML = """\
name = "abuse"
main = "src/entry.py"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "KV", id = "kv" }]
"""
ENTRY = """\
import asyncio
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path == "slow":
            self.ctx.waitUntil(self.later())
            try:
                await self.env.KV.put("slow", "started")  # tests wait for this, not for a time
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                await self.env.KV.put("cancelled", "yes")
                raise
            return Response("finished")
        if path == "echo":
            return Response(str(len(await request.text())))
        return Response("ok")

    async def later(self):
        await asyncio.sleep(0.5)
        await self.env.KV.put("waitUntil", "done")
"""


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, WorkerRuntime, DevServer]]:
    (tmp_path / "wrangler.toml").write_text(TOML)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    state = config.state_paths()
    runtime = await WorkerRuntime.open(config, store_url=state.kv_url, do_store_url=state.do_url,
                                       state_dir=state.root)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, on_ready=ready.set_result,
                       max_body_bytes=1000, graceful_shutdown_seconds=0.5)
    serving = asyncio.create_task(server.serve())
    url = await asyncio.wait_for(ready, 20)
    yield url, runtime, server
    server.stop()
    await asyncio.wait_for(serving, 20)


async def _raw(url: str, data: bytes, *, read: bool = True) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), 10) if read else b""
    writer.close()
    return answer


@pytest.mark.parametrize("header", [b"X-A: a\nb", b"X-A: a\rb", b"X-A: a\r\r", b"X\nA: b", b"X-A: a\x00b"])
async def test_bare_cr_or_lf_in_a_header_gets_400(served: Any, header: bytes) -> None:
    url, _, _ = served
    answer = await _raw(url, b"GET / HTTP/1.1\r\nHost: x\r\n" + header + b"\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer


async def test_a_body_over_the_limit_gets_413_before_it_is_read(served: Any) -> None:
    url, _, _ = served
    # Content-Length announces 10 MB; we send none of it: the answer must come anyway
    answer = await _raw(url, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert b"413 Request Entity Too Large" in answer
    async with httpx.AsyncClient(base_url=url) as http:
        assert (await http.post("/echo", content=b"x" * 1000)).text == "1000"  # at the limit
        async def chunks() -> AsyncIterator[bytes]:
            yield b"x" * 600
            yield b"x" * 600

        chunked = await http.post("/echo", content=chunks())  # no length: counted as it comes
        assert chunked.status_code == 413


async def test_bad_content_length_gets_400(served: Any) -> None:
    url, _, _ = served
    answer = await _raw(url, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer


# GET and HEAD reach the Worker with the server's own receive/send (limits.py's hot path);
# other methods through the wrapped exchange: both must notice the client leaving.
@pytest.mark.parametrize("method", [b"GET", b"DELETE"])
async def test_a_client_that_disconnects_cancels_its_request_not_wait_until(
    served: Any, caplog: pytest.LogCaptureFixture, method: bytes
) -> None:
    url, runtime, _ = served
    await _raw(url, method + b" /slow HTTP/1.1\r\nHost: x\r\n\r\n", read=False)
    kv = runtime.env.KV
    for _ in range(100):
        if await kv.get("cancelled") and await kv.get("waitUntil"):
            break
        await asyncio.sleep(0.05)
    assert await kv.get("cancelled") == "yes"  # the handler saw CancelledError at once
    assert await kv.get("waitUntil") == "done"  # ctx.waitUntil work finished
    assert "Traceback" not in caplog.text and "CancelledError" not in caplog.text


async def test_shutdown_ends_in_flight_work_without_tracebacks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    (tmp_path / "wrangler.toml").write_text(TOML)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    state = config.state_paths()
    runtime = await WorkerRuntime.open(config, store_url=state.kv_url, do_store_url=state.do_url,
                                       state_dir=state.root)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, on_ready=ready.set_result,
                       graceful_shutdown_seconds=0.3)
    serving = asyncio.create_task(server.serve())
    url = await asyncio.wait_for(ready, 20)
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        pending = asyncio.create_task(http.get("/slow"))
        for _ in range(200):  # until the request is in the Worker, however loaded the machine
            if await runtime.env.KV.get("slow"):
                break
            await asyncio.sleep(0.05)
        assert await runtime.env.KV.get("slow") == "started"
        server.stop()
        await asyncio.wait_for(serving, 20)
        response = await pending
    assert response.status_code == 503
    assert "Traceback" not in caplog.text and "CancelledError" not in caplog.text, caplog.text


def test_parse_size() -> None:
    assert parse_size("100MB") == 100_000_000
    assert parse_size("100MiB") == 100 * 1024 * 1024
    assert parse_size("2048") == 2048
    with pytest.raises(ValueError):
        parse_size("lots")
