"""The legacy ``js`` globals."""

from __future__ import annotations

import logging

import pytest

from edgekv.runtime import jsglobals as js
from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.response import Response


async def test_response_new_with_init_dict_or_kwargs() -> None:
    a = js.Response.new("hi", {"status": 404, "headers": {"X-A": "1"}})
    b = js.Response.new("hi", status=404, headers=js.Headers.new({"x-a": "1"}))
    for response in (a, b):
        assert isinstance(response, Response)
        assert response.status == 404 and response.headers["x-a"] == "1"
        assert await response.text() == "hi"
    assert await js.Response.new(bytearray(b"raw")).bytes() == b"raw"


async def test_response_json_static_with_init() -> None:
    response = js.Response.json({"a": 1}, {"status": 201})
    assert response.status == 201 and await response.json() == {"a": 1}


def test_headers_new_and_object_helpers() -> None:
    headers = js.Headers.new([["a", "1"], ["a", "2"]])
    assert isinstance(headers, Headers) and headers.get("a") == "1, 2"
    assert js.Object.fromEntries([("a", 1), ("b", 2)]) == {"a": 1, "b": 2}
    assert js.Object.fromEntries({"a": 1}.items()) == {"a": 1}
    assert js.Object.entries({"a": 1}) == [["a", 1]]


def test_json() -> None:
    assert js.JSON.stringify({"a": [1, None], "é": True}) == '{"a":[1,null],"é":true}'
    assert js.JSON.parse('{"a": 1}') == {"a": 1}


def test_console_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="edgekv.worker"):
        js.console.log("hello", 1, {"a": 1})
        js.console.warn("careful")
        js.console.error("bad")
        js.console.debug("dbg")
        js.console.info("inf")
    levels = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert levels == [
        ("INFO", 'hello 1 {"a":1}'),
        ("WARNING", "careful"),
        ("ERROR", "bad"),
        ("DEBUG", "dbg"),
        ("INFO", "inf"),
    ]


def test_url() -> None:
    url = js.URL.new("/p/a?x=1#frag", "https://user@example.com:8443/base")
    assert url.href == "https://user@example.com:8443/p/a?x=1#frag"
    assert (url.protocol, url.host, url.hostname, url.port) == (
        "https:", "example.com:8443", "example.com", "8443"
    )
    assert (url.pathname, url.search, url.hash) == ("/p/a", "?x=1", "#frag")
    with pytest.raises(TypeError):
        js.URL.new("relative")


async def test_request_new() -> None:
    request = js.Request.new("https://e.com", {"method": "POST", "body": "b"})
    assert request.method == "POST" and await request.text() == "b"
