"""Outbound fetch against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http import HTTPMethod
from typing import Any

import pytest
import uvicorn

from edgekv.runtime.web.fetch import fetch
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.response import Response


async def upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/redirect":
        await send({"type": "http.response.start", "status": 302,
                    "headers": [(b"location", b"/echo")]})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    payload = f'{scope["method"]} {path} {headers.get("x-test", "-")} {body.decode()}'
    await send({"type": "http.response.start", "status": 201 if path == "/created" else 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
    await send({"type": "http.response.body", "body": payload.encode()})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(upstream, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("upstream server did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


async def test_get_returns_response(base_url: str) -> None:
    response = await fetch(f"{base_url}/echo", headers={"X-Test": "yes"})
    assert isinstance(response, Response)
    assert response.status == 200 and response.ok
    assert response.url == f"{base_url}/echo" and not response.redirected
    assert response.headers.get_all("set-cookie") == ["a=1", "b=2"]
    assert await response.text() == "GET /echo yes "


async def test_post_with_method_enum_and_body(base_url: str) -> None:
    response = await fetch(f"{base_url}/created", method=HTTPMethod.POST, body="data")
    assert response.status == 201
    assert await response.text() == "POST /created - data"


async def test_request_object_and_redirects(base_url: str) -> None:
    followed = await fetch(Request(f"{base_url}/redirect"))
    assert followed.redirected and followed.url.endswith("/echo")
    manual = await fetch(f"{base_url}/redirect", redirect="manual")
    assert manual.status == 302 and manual.headers["location"] == "/echo"
    with pytest.raises(TypeError):
        await fetch(f"{base_url}/redirect", redirect="error")


async def test_connection_failure_raises_oserror() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError, match="fetch failed"):
        await fetch(f"http://127.0.0.1:{port}/")
