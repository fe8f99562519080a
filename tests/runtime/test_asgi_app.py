"""workers.asgi.fetch with a real FastAPI application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from fastapi.responses import StreamingResponse

from edgekv.runtime import asgi_app
from edgekv.runtime.context import Context, bound
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.resources import WorkerResources, bind_owner, unbind_owner


def make_app() -> tuple[FastAPI, list[str]]:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/items/{item_id}")
    async def item(item_id: int, request: FastAPIRequest, q: str = "") -> dict[str, Any]:
        return {
            "id": item_id,
            "q": q,
            "env": request.scope["env"]["NAME"],
            "greeting": request.state.greeting,
            "ua": request.headers.get("user-agent"),
        }

    @app.post("/echo")
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return {"got": payload}

    @app.get("/cookies")
    async def cookies() -> Any:
        from fastapi.responses import Response as FResponse

        response = FResponse("c")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def gen() -> AsyncIterator[bytes]:
            for part in (b"x", b"y", b"z"):
                yield part

        return StreamingResponse(gen(), media_type="text/plain")

    env_from_scope = asgi_app.env_dependency()

    @app.get("/env")
    async def env_dep(env: Any = env_from_scope) -> dict[str, Any]:
        return {"name": env["NAME"]}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    return app, events


def asgi_request(method: str, path: str, body: bytes = b"", headers: Any = ()) -> Request:
    chunks = [body]

    async def receive() -> dict[str, Any]:
        data = chunks.pop() if chunks else b""
        return {"type": "http.request", "body": data, "more_body": False}

    path_only, _, query = path.partition("?")
    scope = {
        "type": "http", "method": method, "scheme": "http", "path": path_only,
        "raw_path": path_only.encode(), "query_string": query.encode(), "root_path": "",
        "http_version": "1.1", "asgi": {"version": "3.0"},
        "headers": [(b"host", b"worker.test"), (b"user-agent", b"t/1"), *headers],
        "server": ("worker.test", 80), "client": ("127.0.0.1", 5000),
    }
    return Request.from_asgi(scope, receive)


async def test_fastapi_get_with_env_state_and_lifespan() -> None:
    app, events = make_app()
    env = {"NAME": "edge"}
    async with WorkerResources() as resources:
        owner = bind_owner(resources)  # what a WorkerRuntime does around each request
        with bound(env):
            response = await asgi_app.fetch(
                app, asgi_request("GET", "/items/7?q=hi").js_object, env)
            assert response.status == 200
            assert await response.json() == {
                "id": 7, "q": "hi", "env": "edge", "greeting": "hello", "ua": "t/1"
            }
            again = await asgi_app.fetch(app, asgi_request("GET", "/items/8"), env)
            assert again.status == 200
        unbind_owner(owner)
        assert events == ["startup"]  # the owning runtime keeps the lifespan running
    assert events == ["startup", "shutdown"]  # and ends it when it closes


async def test_lifespan_outside_a_runtime_runs_around_each_request() -> None:
    # Cloudflare's adapter runs startup and shutdown around every request; with no runtime to
    # own the lifespan, edgekv does the same rather than leave it running forever.
    app, events = make_app()
    response = await asgi_app.fetch(app, asgi_request("GET", "/items/1"), {"NAME": "x"})
    assert (await response.json())["greeting"] == "hello"
    assert events == ["startup", "shutdown"]
    streamed = await asgi_app.fetch(app, asgi_request("GET", "/stream"), {})
    assert await streamed.text() == "xyz"
    for _ in range(100):  # the producing task stops the lifespan once the body is done
        if len(events) == 4:
            break
        await asyncio.sleep(0.01)
    assert events == ["startup", "shutdown"] * 2


async def test_fastapi_post_body_and_constructed_request() -> None:
    app, _ = make_app()
    headers = [(b"content-type", b"application/json")]
    response = await asgi_app.fetch(app, asgi_request("POST", "/echo", b'{"a": 1}', headers), {})
    assert await response.json() == {"got": {"a": 1}}
    built = Request("https://worker.test/items/3", headers={"user-agent": "py"})
    response = await asgi_app.fetch(app, built, {"NAME": "n"})
    assert (await response.json())["ua"] == "py"


async def test_fastapi_cookies_streaming_and_dependency() -> None:
    app, _ = make_app()
    cookies = await asgi_app.fetch(app, asgi_request("GET", "/cookies"), {})
    assert [c.split(";")[0] for c in cookies.headers.get_all("set-cookie")] == ["a=1", "b=2"]
    ctx = Context()
    streamed = await asgi_app.fetch(app, asgi_request("GET", "/stream"), {}, ctx)
    assert await streamed.text() == "xyz"
    assert await ctx.drain() == []
    dep = await asgi_app.fetch(app, asgi_request("GET", "/env"), {"NAME": "dep"})
    assert await dep.json() == {"name": "dep"}


async def test_app_exception_becomes_500_or_propagates() -> None:
    app, _ = make_app()
    # Starlette's ServerErrorMiddleware sends a 500 before re-raising: that response wins.
    response = await asgi_app.fetch(app, asgi_request("GET", "/boom"), {})
    assert response.status == 500

    async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raise RuntimeError("kaboom")

    with pytest.raises(RuntimeError, match="kaboom"):
        await asgi_app.fetch(raw, asgi_request("GET", "/"), {})

    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        return None

    with pytest.raises(RuntimeError, match="did not generate a response"):
        await asgi_app.fetch(silent, asgi_request("GET", "/"), {})


async def test_app_without_lifespan_and_entrypoint() -> None:
    async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["env"].encode()})

    default_cls = asgi_app.entrypoint(bare)
    worker = default_cls(Context(), "from-env")
    response = await worker.fetch(asgi_request("GET", "/"))
    assert await response.text() == "from-env"


async def test_mixed_case_header_names_from_an_app_read_as_javascript_headers() -> None:
    # ASGI asks apps for lowercase header names, but a hand-written app may send "X-Id";
    # the Worker's Response.headers (JavaScript Headers) match names case-insensitively and
    # list them lowercase, and edgekv's server sends them on lowercase.
    async def shouty(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"X-Id", b"7"), (b"Content-Type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"ok"})

    response = await asgi_app.fetch(shouty, asgi_request("GET", "/"), {})
    # raw() first: it is what the server sends, before any read decodes the names
    assert response.headers.raw() == [(b"x-id", b"7"), (b"content-type", b"text/plain")]
    assert response.headers.get("X-ID") == "7"
    assert await response.text() == "ok"
