"""One socket write per response (``edgekv.server.coalescing``).

The writer's contract on a recording transport (order, one write per loop turn, the 64 KiB
cut, close/write_eof/abort), then real uvicorn servers on the coalescing protocol: a small
response leaves in one write, a 2 MB streamed body arrives whole with flow control, pipelined
requests are answered in order, ``Connection: close`` answers completely, and a WebSocket
upgrade still works.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from edgekv.server.coalescing import FLUSH_BYTES, CoalescingWriter, http_protocol
from edgekv.server.dev import bind_socket


class RecordingTransport(asyncio.Transport):
    """What the writer hands on, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def write_eof(self) -> None:
        self.events.append("eof")

    def abort(self) -> None:
        self.events.append("abort")
        self.closing = True

    def get_write_buffer_size(self) -> int:
        return 7


async def test_writes_of_one_turn_leave_as_one() -> None:
    transport = RecordingTransport()
    writer = CoalescingWriter(transport, asyncio.get_running_loop())
    writer.write(b"HTTP/1.1 200 OK\r\n\r\n")
    writer.write(bytearray(b"body"))
    writer.write(b"")
    assert transport.writes == []
    assert writer.get_write_buffer_size() == 23 + 7
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    writer.write(b"next")
    await asyncio.sleep(0)
    assert transport.writes[1:] == [b"next"]


async def test_large_writes_go_at_once_and_in_order() -> None:
    transport = RecordingTransport()
    writer = CoalescingWriter(transport, asyncio.get_running_loop())
    big = b"x" * FLUSH_BYTES
    writer.write(big)  # nothing buffered: straight through
    assert transport.writes == [big]
    writer.write(b"a" * 10)
    writer.write(b"b" * (FLUSH_BYTES - 10))  # the buffer reaches the cut: written now
    assert transport.writes[1:] == [b"a" * 10 + b"b" * (FLUSH_BYTES - 10)]
    await asyncio.sleep(0)  # the end-of-turn flush finds nothing left
    assert len(transport.writes) == 2


async def test_close_and_eof_flush_abort_drops() -> None:
    loop = asyncio.get_running_loop()
    transport = RecordingTransport()
    writer = CoalescingWriter(transport, loop)
    writer.write(b"last words")
    writer.write_eof()
    assert (transport.writes, transport.events) == ([b"last words"], ["eof"])
    writer.write(b"bye")
    writer.close()
    assert (transport.writes[-1], transport.events[-1]) == (b"bye", "close")
    writer.write(b"after close")  # dropped, as the transport drops writes once closing
    await asyncio.sleep(0)
    assert transport.writes[-1] == b"bye"

    aborted = RecordingTransport()
    writer = CoalescingWriter(aborted, loop)
    writer.write(b"never sent")
    writer.abort()
    await asyncio.sleep(0)
    assert (aborted.writes, aborted.events) == ([], ["abort"])


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": "echo:" + message["text"]})
        await send({"type": "websocket.close"})
        return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        chunk = b"s" * 1000
        for _ in range(2000):  # 2 MB in 1 KB chunks, without yielding in between
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = path.encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def _serve(**options: Any) -> AsyncIterator[int]:
    """Serve ``_app`` on the one-write protocol (uvicorn ``options`` added); yield the port."""
    sock = bind_socket("127.0.0.1", 0)
    options.setdefault("ws", "websockets-sansio")
    config = uvicorn.Config(_app, http=http_protocol(), lifespan="off", log_config=None,
                            access_log=False, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def test_a_small_response_is_one_socket_write(monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[bytes] = []
    in_request: list[bool] = []  # written by the request's own task, not at the turn's end
    original = CoalescingWriter._write_now

    def counting(self: CoalescingWriter, data: bytes) -> None:
        writes.append(data)
        in_request.append(asyncio.current_task() is not None)
        original(self, data)

    monkeypatch.setattr(CoalescingWriter, "_write_now", counting)
    async with _serve() as port, httpx.AsyncClient(timeout=10) as client:
        for path in ("/a", "/bb"):
            response = await client.get(f"http://127.0.0.1:{port}{path}")
            assert (response.status_code, response.text) == (200, path)
    assert len(writes) == 2
    assert all(w.startswith(b"HTTP/1.1 200 OK\r\n") for w in writes)
    assert writes[0].endswith(b"\r\n\r\n/a") and writes[1].endswith(b"\r\n\r\n/bb")
    assert in_request == [True, True]  # a lone request's answer leaves as it completes


async def test_streamed_body_pipelining_and_close_over_real_sockets() -> None:
    async with _serve() as port:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.get(f"http://127.0.0.1:{port}/stream")
            assert response.content == b"s" * 2_000_000

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:  # two pipelined requests in one segment, the second asking to close
            writer.write(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 10)  # until the server closes
        finally:
            writer.close()
        first, second = data.index(b"\r\n\r\n/one"), data.index(b"\r\n\r\n/two")
        assert first < second and data.endswith(b"/two")
        assert data.count(b"HTTP/1.1 200 OK") == 2


async def test_websocket_upgrade_gets_the_real_transport() -> None:
    async with (_serve() as port,
                websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as ws):
        await ws.send("hi")
        assert await asyncio.wait_for(ws.recv(), 10) == "echo:hi"


def test_the_protocol_is_uvicorn_s_own_with_the_writer() -> None:
    cls = http_protocol()
    assert cls is http_protocol()  # one class per process
    assert cls.__mro__[2].__module__.startswith("uvicorn.protocols.http.")


async def test_tls_connections_write_through_the_writer_too(tmp_path: Any) -> None:
    """``edgekv serve --tls-cert/--tls-key``: the writer sits on uvicorn's TLS transport."""
    import ssl

    import trustme

    authority = trustme.CA()
    served = authority.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    served.cert_chain_pems[0].write_to_path(str(cert))
    served.private_key_pem.write_to_path(str(key))
    context = ssl.create_default_context()
    authority.configure_trust(context)
    async with (_serve(ws="none", ssl_certfile=str(cert), ssl_keyfile=str(key)) as port,
                httpx.AsyncClient(verify=context, timeout=30) as client):
        small = await client.get(f"https://127.0.0.1:{port}/tls")
        assert (small.status_code, small.text) == (200, "/tls")
        streamed = await client.get(f"https://127.0.0.1:{port}/stream")
        assert streamed.content == b"s" * 2_000_000
