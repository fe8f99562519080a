"""A Worker that returns ``await fetch(url)`` unchanged, served by the real DevServer.

The upstream is a raw asyncio socket server that writes mixed-case headers exactly as given
(gzip, chunked and plain replies); the client reads the raw bytes edgekv sends, and header
names are compared case-insensitively, so a duplicated ``Content-Length`` or ``Date``, a
``Content-Encoding: gzip`` on a decoded body, or ``Transfer-Encoding`` next to
``Content-Length`` cannot hide.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.dev import DevServer

BODY = b"hello from upstream " * 20

ENTRY = """\
from urllib.parse import urlparse
from workers import WorkerEntrypoint, fetch

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        return await fetch(self.env.UPSTREAM + path)
"""


def _reply(path: str) -> bytes:
    date = b"Date: Thu, 03 Dec 2026 10:00:00 GMT\r\n"
    if path == "/gzip":
        data = gzip.compress(BODY)
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                + date + b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    if path == "/chunked":
        half = len(BODY) // 2
        chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n"
                          for part in (BODY[:half], BODY[half:]))
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                + date + b"\r\n" + chunks + b"0\r\n\r\n")
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + date
            + b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


async def _upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            writer.write(_reply(path))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _raw_get(port: int, path: str) -> tuple[list[tuple[str, str]], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n"
                 "Connection: close\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")[1:]
    headers = [(k.strip().lower(), v.strip()) for k, v in (line.split(":", 1) for line in lines)]
    return headers, body


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[int]:
    upstream = await asyncio.start_server(_upstream, "127.0.0.1", 0)
    up_port = upstream.sockets[0].getsockname()[1]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "wrangler.toml").write_text(
        'name = "pass"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n'
        f'vars = {{ UPSTREAM = "http://127.0.0.1:{up_port}" }}\n')
    runtime = await WorkerRuntime.open(load_config(tmp_path, cwd=tmp_path, environ={}),
                                       store_url="memory://")
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, on_ready=ready.set_result)
    serving = asyncio.create_task(server.serve())
    url = await asyncio.wait_for(ready, 10)
    yield int(url.rsplit(":", 1)[1])
    server.stop()
    await asyncio.wait_for(serving, 10)
    upstream.close()
    await upstream.wait_closed()


@pytest.mark.parametrize("path", ["/gzip", "/chunked", "/plain"])
async def test_fetched_response_passes_through_correctly(served: int, path: str) -> None:
    headers, body = await _raw_get(served, path)
    names = [name for name, _ in headers]
    for single in ("content-length", "date", "content-type"):
        assert names.count(single) == 1, (single, headers)
    assert "transfer-encoding" not in names
    assert "content-encoding" not in names  # the body below is the decoded text
    assert body == BODY
    assert dict(headers)["content-length"] == str(len(BODY))
    assert dict(headers)["date"] == "Thu, 03 Dec 2026 10:00:00 GMT"


async def test_other_apps_get_one_date_header_too() -> None:
    # uvicorn's Date is off; DateHeader adds one to responses that are not the Worker's.
    server = DevServer(None, host="127.0.0.1", port=0, run_crons=False)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server.on_ready = ready.set_result
    serving = asyncio.create_task(server.serve())
    url = await asyncio.wait_for(ready, 10)
    try:
        headers, _ = await _raw_get(int(url.rsplit(":", 1)[1]), "/anything")
        assert [name for name, _ in headers].count("date") == 1
    finally:
        server.stop()
        await asyncio.wait_for(serving, 10)
