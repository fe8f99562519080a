"""``WebSocketPair`` and ``js.WebSocket`` (edgekv.runtime.web.websocket), in process.

The outbound client stands for python-workers-examples ``14-websocket-stream-consumer``
(``js.WebSocket.new(url)`` with ``open``/``message``/``close`` listeners wrapped in
``create_proxy``), against a local ``websockets`` server instead of Bluesky's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import serve

from edgekv.runtime.errors import RuntimeShimError
from edgekv.runtime.web.websocket import WebSocket, WebSocketPair


async def test_pair_ends_talk_after_accept() -> None:
    client, server = WebSocketPair.new().object_values()
    got: list[str] = []
    done = asyncio.Event()

    async def on_message(event) -> None:  # type: ignore[no-untyped-def]
        got.append(event.data)
        if len(got) == 2:
            done.set()

    client.accept()  # both ends of a pair used in process need accept(), as in workerd
    client.send("early")  # waits for the server end's accept()
    server.addEventListener("message", on_message)
    await asyncio.sleep(0.01)
    assert got == []
    server.accept()
    client.send(b"\x00bin")
    await asyncio.wait_for(done.wait(), 2)
    assert got == ["early", b"\x00bin"]


async def test_send_before_accept_is_refused() -> None:
    pair = WebSocketPair()
    with pytest.raises(RuntimeShimError, match=r"must call accept\(\)"):
        pair[1].send("x")


async def test_close_reaches_the_other_end() -> None:
    client, server = WebSocketPair.new().object_values()
    server.accept()
    client.accept()
    closed: asyncio.Future = asyncio.get_running_loop().create_future()
    server.addEventListener("close", lambda e: closed.set_result((e.code, e.reason, e.wasClean)))
    client.close(4001, "gone")
    assert await asyncio.wait_for(closed, 2) == (4001, "gone", True)
    with pytest.raises(RuntimeShimError, match="after close"):
        client.send("late")


async def test_attachments_are_copies_and_limited() -> None:
    ws = WebSocketPair()[1]
    value = {"user": "ann", "seen": [1]}
    ws.serializeAttachment(value)
    value["seen"].append(2)
    assert ws.deserializeAttachment() == {"user": "ann", "seen": [1]}
    with pytest.raises(RuntimeShimError, match="cannot be larger than 2048 bytes"):
        ws.serializeAttachment("x" * 3000)


@pytest.fixture
async def echo_server() -> AsyncIterator[str]:
    async def handler(connection) -> None:  # type: ignore[no-untyped-def]
        async for message in connection:
            if message == "close":
                await connection.close(4002, "asked")
                return
            await connection.send(f"echo {message}")

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def test_outbound_websocket_client(echo_server: str) -> None:
    from edgekv.runtime.shims import install

    install()
    from pyodide.ffi import create_proxy

    import js

    events: list[tuple[str, object]] = []
    closed = asyncio.Event()
    ws = js.WebSocket.new(echo_server)
    assert ws.readyState == WebSocket.CONNECTING

    async def on_open(event) -> None:  # type: ignore[no-untyped-def]
        events.append(("open", None))
        ws.send("one")

    def on_message(event) -> None:  # type: ignore[no-untyped-def]
        events.append(("message", event.data))
        ws.send("close")

    def on_close(event) -> None:  # type: ignore[no-untyped-def]
        events.append(("close", (event.code, event.reason)))
        closed.set()

    ws.addEventListener("open", create_proxy(on_open))
    ws.addEventListener("message", create_proxy(on_message))
    ws.addEventListener("close", create_proxy(on_close))
    await asyncio.wait_for(closed.wait(), 5)
    assert events == [("open", None), ("message", "echo one"), ("close", (4002, "asked"))]
    assert ws.readyState == WebSocket.CLOSED


async def test_outbound_connection_failure_reports_error_then_close() -> None:
    kinds: list[str] = []
    closed = asyncio.Event()
    ws = WebSocket("ws://127.0.0.1:9/nothing")
    ws.addEventListener("error", lambda e: kinds.append("error"))
    ws.addEventListener("close", lambda e: (kinds.append(f"close {e.code}"), closed.set()))
    await asyncio.wait_for(closed.wait(), 5)
    assert kinds == ["error", "close 1006"]


async def test_listener_raising_base_exception_keeps_delivering(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 14-websocket-stream-consumer calls ctx.abort() (a BaseException) from a listener
    from edgekv.durable_objects.errors import DurableObjectAbort

    client, server = WebSocketPair.new().object_values()
    client.accept()
    server.accept()
    got: list[str] = []
    done = asyncio.Event()

    def on_message(event) -> None:  # type: ignore[no-untyped-def]
        got.append(event.data)
        if event.data == "abort":
            raise DurableObjectAbort("WebSocket closed")
        done.set()

    server.addEventListener("message", on_message)
    client.send("abort")
    client.send("after")
    await asyncio.wait_for(done.wait(), 2)
    assert got == ["abort", "after"]
    assert "Uncaught exception in a WebSocket message handler" in caplog.text
