"""Request: construction, method enum, body-once rules, clone, ASGI wrapping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPMethod
from typing import Any

import pytest

from edgekv.runtime.web.formdata import FormData
from edgekv.runtime.web.request import Request


def receiver(*chunks: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return receive


def scope(method: str = "POST", path: str = "/a b", query: bytes = b"x=1", **extra: Any) -> dict:
    return {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": b"/a%20b",
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1:8787"), (b"content-type", b"application/json")],
        "server": ("127.0.0.1", 8787),
        **extra,
    }


async def test_from_asgi_exposes_url_method_headers_and_body() -> None:
    request = Request.from_asgi(scope(), receiver(b'{"na', b'me": "x"}'))
    assert request.url == "http://127.0.0.1:8787/a%20b?x=1"
    assert request.method is HTTPMethod.POST and request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    assert request.cf is None
    assert request.js_object is request
    assert await request.json() == {"name": "x"}
    assert request.body_used


async def test_body_read_twice_raises_oserror() -> None:
    request = Request.from_asgi(scope(), receiver(b"hello"))
    assert await request.text() == "hello"
    with pytest.raises(OSError, match="^Body already used$"):
        await request.text()
    with pytest.raises(OSError, match="Body already used"):
        request.clone()


async def test_get_has_no_body() -> None:
    request = Request.from_asgi(scope("GET"), receiver())
    assert request.body is None
    assert await request.bytes() == b""


async def test_clone_tees_a_streamed_body() -> None:
    request = Request.from_asgi(scope(), receiver(b"ab", b"cd"))
    twin = request.clone()
    assert await twin.text() == "abcd"
    assert await request.bytes() == b"abcd"


async def test_url_without_host_header_uses_server() -> None:
    s = scope("GET", headers=[], server=("localhost", 80))
    assert Request.from_asgi(s, receiver()).url == "http://localhost/a%20b?x=1"


async def test_constructed_request() -> None:
    request = Request("https://example.com/x", method="put", headers={"X-A": "1"}, body="hi")
    assert request.method is HTTPMethod.PUT
    assert request.headers["content-type"] == "text/plain;charset=UTF-8"
    assert await request.buffer() == b"hi"
    assert (await Request("https://e.com", method=HTTPMethod.POST, body=b"z").buffer()).to_bytes() == b"z"


async def test_form_data_and_non_standard_method() -> None:
    form = FormData({"a": "1"})
    request = Request("https://e.com", method="PROPFIND", body=form)
    assert request.method == "PROPFIND"
    parsed = await request.form_data()
    assert parsed["a"] == "1"


def test_get_with_body_and_relative_url_raise_typeerror() -> None:
    with pytest.raises(TypeError, match="GET or HEAD"):
        Request("https://e.com", body="x")
    with pytest.raises(TypeError, match="Invalid URL"):
        Request("/relative")
    with pytest.raises(TypeError, match="Unsupported type in Request: dict"):
        Request("https://e.com", method="POST", body={"a": 1})


async def test_request_from_request_takes_over_the_body() -> None:
    original = Request("https://e.com", method="POST", body="data")
    copy = Request(original, headers={"x": "1"})
    assert original.body_used
    assert copy.method == "POST" and copy.headers["x"] == "1"
    assert await copy.text() == "data"
    with pytest.raises(TypeError, match="already been used"):
        Request(original)
