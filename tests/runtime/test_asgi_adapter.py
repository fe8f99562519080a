"""workers.asgi.fetch with a real FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from fastapi.responses import StreamingResponse

from edgekv.runtime import asgi_adapter
from edgekv.runtime.context import Context
from edgekv.runtime.request import Request


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

    env_from_scope = asgi_adapter.env_dependency()

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
    response = await asgi_adapter.fetch(app, asgi_request("GET", "/items/7?q=hi").js_object, env)
    assert response.status == 200
    assert await response.json() == {
        "id": 7, "q": "hi", "env": "edge", "greeting": "hello", "ua": "t/1"
    }
    again = await asgi_adapter.fetch(app, asgi_request("GET", "/items/8"), env)
    assert again.status == 200
    assert events == ["startup"]  # lifespan runs once per app and loop
    await asgi_adapter.shutdown_apps()
    assert events == ["startup", "shutdown"]


async def test_fastapi_post_body_and_constructed_request() -> None:
    app, _ = make_app()
    headers = [(b"content-type", b"application/json")]
    response = await asgi_adapter.fetch(app, asgi_request("POST", "/echo", b'{"a": 1}', headers), {})
    assert await response.json() == {"got": {"a": 1}}
    built = Request("https://worker.test/items/3", headers={"user-agent": "py"})
    response = await asgi_adapter.fetch(app, built, {"NAME": "n"})
    assert (await response.json())["ua"] == "py"
    await asgi_adapter.shutdown_apps()


async def test_fastapi_cookies_streaming_and_dependency() -> None:
    app, _ = make_app()
    cookies = await asgi_adapter.fetch(app, asgi_request("GET", "/cookies"), {})
    assert [c.split(";")[0] for c in cookies.headers.get_all("set-cookie")] == ["a=1", "b=2"]
    ctx = Context()
    streamed = await asgi_adapter.fetch(app, asgi_request("GET", "/stream"), {}, ctx)
    assert await streamed.text() == "xyz"
    assert await ctx.drain() == []
    dep = await asgi_adapter.fetch(app, asgi_request("GET", "/env"), {"NAME": "dep"})
    assert await dep.json() == {"name": "dep"}
    await asgi_adapter.shutdown_apps()


async def test_app_exception_becomes_500_or_propagates() -> None:
    app, _ = make_app()
    # Starlette's ServerErrorMiddleware sends a 500 before re-raising: that response wins.
    response = await asgi_adapter.fetch(app, asgi_request("GET", "/boom"), {})
    assert response.status == 500
    await asgi_adapter.shutdown_apps()

    async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raise RuntimeError("kaboom")

    with pytest.raises(RuntimeError, match="kaboom"):
        await asgi_adapter.fetch(raw, asgi_request("GET", "/"), {})

    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        return None

    with pytest.raises(RuntimeError, match="did not generate a response"):
        await asgi_adapter.fetch(silent, asgi_request("GET", "/"), {})
    await asgi_adapter.shutdown_apps()


async def test_app_without_lifespan_and_entrypoint() -> None:
    async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["env"].encode()})

    default_cls = asgi_adapter.entrypoint(bare)
    worker = default_cls(Context(), "from-env")
    response = await worker.fetch(asgi_request("GET", "/"))
    assert await response.text() == "from-env"
    await asgi_adapter.shutdown_apps()
