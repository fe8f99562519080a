"""Response: constructor rules, json/redirect, body-once, streaming bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http import HTTPStatus

import pytest

from edgekv.runtime.web.blob import Blob
from edgekv.runtime.web.formdata import FormData
from edgekv.runtime.web.response import Response


async def test_str_body_defaults() -> None:
    response = Response("héllo")
    assert response.status == 200 and response.ok and response.status_text == ""
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"
    assert await response.text() == "héllo"
    with pytest.raises(OSError, match="^Body already used$"):
        await response.bytes()


async def test_explicit_status_and_headers() -> None:
    response = Response(b"x", status=HTTPStatus.CREATED, status_text="Made", headers=[("a", "1")])
    assert response.status == 201 and response.status_text == "Made"
    assert "content-type" not in response.headers and response.headers["A"] == "1"
    assert not Response(status=404).ok


@pytest.mark.parametrize("body", [{"a": 1}, [1, 2], 12, bytearray(b"x")])
def test_unsupported_body_types_raise_typeerror(body: object) -> None:
    with pytest.raises(TypeError, match=f"^Unsupported type in Response: {type(body).__name__}$"):
        Response(body)


def test_status_range_and_null_body() -> None:
    with pytest.raises(ValueError, match="200 to 599"):
        Response("x", status=99)
    with pytest.raises(ValueError):
        Response("x", status=600)
    with pytest.raises(TypeError, match="null body status"):
        Response("x", status=204)
    assert Response(None, status=204).status == 204


async def test_json_static_and_instance() -> None:
    response = Response.json({"a": [1, None]}, status=201, headers={"X-A": "b"})
    assert response.status == 201
    assert response.headers["content-type"] == "application/json"
    assert await response.json() == {"a": [1, None]}
    custom = Response.json([], headers={"Content-Type": "application/vnd+json"})
    assert custom.headers.get_all("content-type") == ["application/vnd+json"]
    assert await Response.from_json("s").text() == '"s"'


def test_redirect() -> None:
    response = Response.redirect("https://example.com/next")
    assert response.status == 302 and response.headers["location"] == "https://example.com/next"
    assert Response.redirect("https://e.com", 301).status == 301
    with pytest.raises(ValueError):
        Response.redirect("https://e.com", 200)
    with pytest.raises(TypeError):
        Response.redirect("/relative")


async def test_set_cookie_multiple() -> None:
    response = Response("x", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert response.headers.get_all("set-cookie") == ["a=1", "b=2"]


async def test_stream_blob_and_form_bodies() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    streamed = Response(gen())
    clone = streamed.clone()
    assert [c async for c in streamed.body] == [b"a", b"b"]  # type: ignore[union-attr]
    assert await clone.text() == "ab"
    assert streamed.body_used

    blob = Response(Blob(b"png", "image/png"))
    assert blob.headers["content-type"] == "image/png"
    form = Response(FormData({"k": "v"}))
    assert (await form.form_data())["k"] == "v"


async def test_clone_replace_body_and_copy_constructor() -> None:
    response = Response("one", status=202, headers={"x": "1"})
    other = response.replace_body("two")
    assert other.status == 202 and await other.text() == "two"
    copied = Response(response)
    assert copied.status == 202 and await copied.text() == "one"
    assert response.body_used
    with pytest.raises(ValueError):
        Response(Response("z"), status=200)


def test_raise_for_status() -> None:
    Response("ok").raise_for_status()
    with pytest.raises(OSError, match="404 Client Error"):
        Response("no", status=404).raise_for_status()
