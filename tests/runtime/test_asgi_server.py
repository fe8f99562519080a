"""The ASGI bridge: request_from_asgi + send_response, driven through a tiny gateway app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from edgekv.asgi_types import Receive, Scope, Send
from edgekv.runtime.asgi_server import request_from_asgi, send_response
from edgekv.runtime.context import Context, bound
from edgekv.runtime.entrypoints import WorkerEntrypoint
from edgekv.runtime.web.response import Response


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Response:
        if request.url.endswith("/stream"):

            async def chunks() -> AsyncIterator[bytes]:
                yield b"one,"
                yield b"two"

            return Response(chunks(), headers={"content-type": "text/csv"})
        if request.url.endswith("/cookies"):
            return Response("c", headers=[("set-cookie", "a=1"), ("set-cookie", "b=2")])
        if request.url.endswith("/empty"):
            return Response(status=204)
        body = await request.text()
        return Response.json(
            {"method": request.method, "url": request.url, "body": body, "env": self.env["X"]}
        )


def gateway(env: dict[str, str]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        ctx = Context()
        with bound(env, ctx):
            response = await Default(ctx, env).fetch(request_from_asgi(scope, receive))
            await send_response(response, send, head=scope["method"] == "HEAD")
        await ctx.drain()

    return app


def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=gateway({"X": "y"}))
    return httpx.AsyncClient(transport=transport, base_url="http://worker.test")


async def test_buffered_round_trip() -> None:
    async with client() as c:
        reply = await c.post("/echo?q=1", content=b"payload")
    assert reply.status_code == 200
    assert reply.headers["content-length"] == str(len(reply.content))
    assert reply.json() == {
        "method": "POST", "url": "http://worker.test/echo?q=1", "body": "payload", "env": "y"
    }


async def test_streamed_body_and_multiple_cookies() -> None:
    async with client() as c:
        streamed = await c.get("/stream")
        cookies = await c.get("/cookies")
        empty = await c.get("/empty")
        head = await c.head("/cookies")
    assert streamed.text == "one,two" and streamed.headers["content-type"] == "text/csv"
    assert cookies.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert empty.status_code == 204 and empty.content == b""
    assert head.content == b"" and head.headers["content-length"] == "1"


async def test_send_response_refuses_a_read_body() -> None:
    response = Response("x")
    await response.text()
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    try:
        await send_response(response, send)
    except OSError as exc:
        assert str(exc) == "Body already used"
    else:
        raise AssertionError("expected OSError")
    assert sent == []
