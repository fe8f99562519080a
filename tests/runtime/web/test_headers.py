"""Headers: case-insensitive lookups, multiple values, HTTPMessage and JavaScript APIs."""

from __future__ import annotations

import http.client

import pytest

from edgekv.runtime.web.headers import Headers


def test_lookup_is_case_insensitive() -> None:
    headers = Headers({"Content-Type": "text/html", "X-Thing": "1"})
    assert headers["content-type"] == "text/html"
    assert headers.get("CONTENT-TYPE") == "text/html"
    assert "x-thing" in headers and headers.has("X-THING")
    assert headers.keys() == ["content-type", "x-thing"]


def test_missing_header_reads_as_none_like_httpmessage() -> None:
    headers = Headers()
    message = http.client.HTTPMessage()
    assert headers["absent"] is None and message["absent"] is None
    assert headers.get("absent", "dflt") == "dflt"
    assert headers.get_all("absent") is None and message.get_all("absent") is None


def test_multiple_set_cookie_values_are_preserved() -> None:
    headers = Headers([("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X", "y")])
    assert headers.get_all("set-cookie") == ["a=1", "b=2"]
    assert headers.getSetCookie() == ["a=1", "b=2"]
    assert headers.get("Set-Cookie") == "a=1"
    assert headers.items() == [("set-cookie", "a=1"), ("set-cookie", "b=2"), ("x", "y")]
    assert headers.raw() == [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x", b"y")]


def test_repeated_ordinary_headers_join_with_comma() -> None:
    headers = Headers([("Accept", "a"), ("accept", "b")])
    assert headers.get("accept") == "a, b"
    assert headers.get_all("accept") == ["a", "b"]


def test_set_append_delete() -> None:
    headers = Headers({"a": "1"})
    headers.append("A", "2")
    assert headers.get_all("a") == ["1", "2"]
    headers.set("a", "3")
    assert headers.get_all("a") == ["3"]
    headers["B"] = " spaced "
    assert headers["b"] == "spaced"
    del headers["a"]
    assert "a" not in headers and len(headers) == 1
    headers.delete("nope")


def test_init_from_headers_and_httpmessage() -> None:
    message = http.client.HTTPMessage()
    message["X-One"] = "1"
    message["X-One"] = "2"
    headers = Headers(message)
    assert headers.get_all("x-one") == ["1", "2"]
    copy = Headers(headers)
    copy.append("z", "1")
    assert "z" not in headers


def test_lazy_raw_asgi_headers_decode_on_use() -> None:
    raw = [(b"host", b"example.com"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
    headers = Headers.from_raw(raw)
    assert len(headers) == 3
    assert headers.raw() == raw
    assert headers["HOST"] == "example.com"
    assert headers.get_all("set-cookie") == ["a=1", "b=2"]


@pytest.mark.parametrize("bad", ["a:b", 42, [("a", "b", "c")]])
def test_bad_init_raises_typeerror(bad: object) -> None:
    with pytest.raises(TypeError, match="Received unexpected type for headers argument"):
        Headers(bad)
