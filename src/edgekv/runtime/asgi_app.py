"""The app side of ASGI: run an ASGI application (FastAPI, Starlette) inside a Worker.

This is ``workers.asgi``. (The other direction, an ASGI server calling the Worker, is
``asgi_server.py``.)

``await fetch(app, request, env, ctx=None)`` drives ``app`` for one request and returns a
:class:`Response`, as Cloudflare's adapter does (``asgi.fetch(app, request.js_object,
self.env)`` in the FastAPI example). The scope carries ``env`` under ``scope["env"]``.

Differences from Cloudflare, both deliberate:

* inside a ``WorkerRuntime`` the lifespan protocol runs once per application (Cloudflare runs
  startup and shutdown around every request): the runtime's ``WorkerResources`` keep it and
  shut it down when the runtime closes. Per-request cost stays small, and ``scope["state"]``
  is a shallow copy of the lifespan state as ASGI requires. Called outside any runtime, the
  lifespan runs around the one request, as on Cloudflare;
* :func:`websocket` runs an app's WebSocket endpoint and returns the 101 response (the
  SDK's ``asgi.websocket``); the socket is accepted only once the app accepts.

A response the app streams (``more_body=True``) is returned as soon as its first chunk is
sent; the rest flows through the returned response's body while the app keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit

from edgekv.asgi_types import ASGIApp, Message
from edgekv.runtime.context import Context
from edgekv.runtime.entrypoints import WorkerEntrypoint
from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.resources import current_resources
from edgekv.runtime.web.response import Response

__all__ = ["entrypoint", "env_dependency", "fetch", "websocket"]


logger = logging.getLogger("edgekv.runtime.asgi")

_ASGI = {"spec_version": "2.3", "version": "3.0"}


def _scope_for(request: Request, env: Any, state: dict[str, Any] | None) -> dict[str, Any]:
    base = request.asgi_scope
    if base is not None and base.get("type") == "http":
        scope = dict(base)
    else:
        parts = urlsplit(request.url)
        scope = {
            "type": "http",
            "asgi": _ASGI,
            "http_version": "1.1",
            "method": str(request.method),
            "scheme": parts.scheme,
            "path": unquote(parts.path) or "/",
            "raw_path": (parts.path or "/").encode("latin-1"),
            "query_string": parts.query.encode("latin-1"),
            "root_path": "",
            "headers": request.headers.raw(),
            "server": (parts.hostname or "localhost", parts.port),
            "client": None,
        }
    scope["env"] = env
    if state is not None:
        scope["state"] = dict(state)
    return scope


class _Lifespan:
    """One running lifespan cycle of an app on one event loop."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = False
        self._receive: asyncio.Queue[Message] = asyncio.Queue()
        self._started: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._receive.put_nowait({"type": "lifespan.startup"})
        self._task = asyncio.ensure_future(self._run())
        self.supported = await self._started

    async def stop(self) -> None:
        if not self.supported or self._stopped.done():
            return
        self._receive.put_nowait({"type": "lifespan.shutdown"})
        await self._stopped

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        try:
            await self.app(scope, self._receive.get, self._send)
        except Exception as exc:
            if not self._started.done():
                # ASGI: an app that raises on the lifespan scope does not support it.
                logger.debug("ASGI app does not support lifespan", exc_info=exc)
                self._started.set_result(False)
                return
            logger.exception("Exception in ASGI lifespan")
        if not self._started.done():
            self._started.set_result(False)
        if not self._stopped.done():
            self._stopped.set_result(None)

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self._started.set_result(True)
        elif kind == "lifespan.startup.failed":
            self._started.set_exception(
                RuntimeError(message.get("message") or "ASGI lifespan startup failed")
            )
        elif (
            kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed")
            and not self._stopped.done()
        ):
            self._stopped.set_result(None)


async def _lifespan_for(app: ASGIApp) -> tuple[_Lifespan, bool]:
    """The running lifespan of ``app`` and whether this call must stop it itself.

    Inside a runtime, the first request starts it and the runtime's resources keep it (an
    unhashable app gets one per request). Outside any runtime it is this request's own."""
    resources = current_resources()
    if resources is not None:
        try:
            known = resources.lifespan(app)
        except TypeError:  # an unhashable app: its lifespan runs around each request
            resources = None
        else:
            if known is not None:
                return known, False  # type: ignore[return-value]
    lifespan = _Lifespan(app)
    await lifespan.start()
    if resources is None:
        return lifespan, True
    resources.keep_lifespan(app, lifespan)
    return lifespan, False


async def fetch(
    app: ASGIApp, request: Request, env: Any, ctx: Context | None = None
) -> Response:
    """Run ``app`` for ``request`` and return its response (see module docstring).

    Raises whatever the app raises before it starts its response, and ``RuntimeError`` if it
    returns without sending one.
    """
    lifespan, own_lifespan = await _lifespan_for(app)
    scope = _scope_for(request, env, lifespan.state if lifespan.supported else None)
    body = request.body
    body_iter = body.__aiter__() if body is not None else None
    finished = asyncio.Event()
    result: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
    start: Message = {}
    chunks: asyncio.Queue[bytes | None] | None = None

    request_done = False
    holder: list[Any] = []

    async def receive() -> Message:
        # ASGI: the body arrives as http.request messages, the last with more_body=False
        # (also for a request without a body); after that, http.disconnect once the
        # response is complete.
        nonlocal body_iter, request_done
        if not request_done:
            if body_iter is not None:
                try:
                    chunk = await body_iter.__anext__()
                    return {"type": "http.request", "body": bytes(chunk), "more_body": True}
                except StopAsyncIteration:
                    body_iter = None
            request_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal chunks
        kind = message["type"]
        if kind == "http.response.start":
            start.update(message)
            return
        if kind != "http.response.body":
            return
        data = bytes(message.get("body", b""))
        more = message.get("more_body", False)
        if chunks is not None:
            if data:
                chunks.put_nowait(data)
            if not more:
                chunks.put_nowait(None)
                finished.set()
            return
        # ASGI asks apps for lowercase names; not every app obeys, and Headers.from_raw
        # (like the JavaScript Headers the Worker sees) holds them lowercase.
        headers = Headers.from_raw([(bytes(name).lower(), bytes(value))
                                    for name, value in start.get("headers", [])])
        if more:
            chunks = asyncio.Queue()
            if data:
                chunks.put_nowait(data)
            result.set_result(Response.from_parts(start["status"], headers, None,
                                                  _drain(chunks, holder)))
            return
        result.set_result(Response.from_parts(start["status"], headers, data or None, None))
        finished.set()

    async def run() -> None:
        try:
            await app(scope, receive, send)
            if not result.done():
                raise RuntimeError("The application did not generate a response")
        except BaseException as exc:
            if not result.done():
                result.set_exception(exc)
            else:
                logger.exception("Exception in ASGI application after response started")
        finally:
            if chunks is not None and not finished.is_set():
                chunks.put_nowait(None)
            finished.set()

    async def run_then_stop() -> None:
        try:
            await run()
        finally:
            if own_lifespan:
                await lifespan.stop()

    task = asyncio.ensure_future(run_then_stop())
    try:
        response = await result
    except BaseException:
        # Cancelled (or failed): never wait on an app that may itself be waiting.
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    if chunks is None:
        await task
    elif ctx is not None:
        ctx.waitUntil(task)
    else:
        _keep(task, holder)
    return response


def _keep(task: asyncio.Future[Any], holder: list[Any]) -> None:
    """Hold a task nobody awaits. The serving runtime keeps it (and cancels it on close);
    outside any runtime, ``holder`` (a list the task's consumer references: the streamed
    body, the socket's listeners) keeps it alive while it is still wanted."""
    resources = current_resources()
    if resources is not None and not resources.closed:
        resources.keep(task)
    else:
        holder.append(task)


async def _drain(chunks: asyncio.Queue[bytes | None], holder: list[Any]) -> AsyncIterator[bytes]:
    # ``holder`` is only referenced, so a producing task outside a runtime lives as long as
    # the body that reads from it.
    while True:
        chunk = await chunks.get()
        if chunk is None:
            del holder[:]
            return
        yield chunk


async def websocket(app: ASGIApp, request: Request, env: Any = None) -> Response:
    """Run ``app``'s WebSocket endpoint for an upgrade ``request``; return the 101 response.

    The app gets a ``websocket`` scope (with ``env``) and ``websocket.connect``; frames the
    client sends arrive as ``websocket.receive``, a close as ``websocket.disconnect``. What
    the app sends goes to the client. If the app closes before accepting, the answer is 403,
    as ASGI servers do. The app keeps running after this returns, as long as the socket.
    """
    from edgekv.runtime.web.websocket import WebSocketPair

    client, server = WebSocketPair.new().object_values()
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    inbox.put_nowait({"type": "websocket.connect"})
    decided: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    holder: list[Any] = []  # outside a runtime, the socket's listener keeps the app's task

    def on_message(event: Any) -> None:
        key = "text" if isinstance(event.data, str) else "bytes"
        inbox.put_nowait({"type": "websocket.receive", key: event.data})

    def on_close(event: Any) -> None:
        inbox.put_nowait({"type": "websocket.disconnect", "code": event.code,
                          "reason": event.reason})
        holder.clear()  # the app is woken with the disconnect; nothing else to keep

    server.addEventListener("message", on_message)
    server.addEventListener("close", on_close)

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            if not decided.done():
                server.accept()
                decided.set_result(True)
        elif kind == "websocket.send":
            data = message.get("bytes")
            server.send(data if data is not None else message.get("text", ""))
        elif kind == "websocket.close":
            if not decided.done():
                decided.set_result(False)
            else:
                server.close(message.get("code", 1000), message.get("reason") or "")

    scope = _scope_for(request, env, None)
    scope["type"] = "websocket"
    scope["scheme"] = "wss" if scope.get("scheme") == "https" else "ws"
    scope.pop("method", None)
    protocols = request.headers.get("sec-websocket-protocol")
    scope["subprotocols"] = [p.strip() for p in protocols.split(",")] if protocols else []

    async def run() -> None:
        try:
            await app(scope, inbox.get, send)
        except Exception as exc:
            if not decided.done():
                decided.set_exception(exc)
                return
            logger.exception("Exception in ASGI WebSocket application")
            server.close(1011, "Internal Error")
        finally:
            if not decided.done():
                decided.set_result(False)

    task = asyncio.ensure_future(run())
    _keep(task, holder)
    if not await decided:
        return Response(None, status=403)
    return Response(None, status=101, web_socket=client)


def entrypoint(app: ASGIApp) -> type[WorkerEntrypoint]:
    """A ``Default`` entrypoint class that serves every request with ``app``."""

    class Default(WorkerEntrypoint):
        async def fetch(self, request: Request) -> Response:
            return await fetch(app, request, self.env, self.ctx)

    return Default


def env_dependency() -> Any:
    """FastAPI dependency yielding ``scope["env"]`` (``workers.asgi.env`` / ``asgi.env``)."""
    from fastapi import Depends
    from fastapi import Request as FastAPIRequest

    async def env(request):  # type: ignore[no-untyped-def]
        return request.scope["env"]

    # Set real annotation objects: FastAPI cannot resolve a string annotation naming a local.
    env.__annotations__ = {"request": FastAPIRequest, "return": Any}
    return Depends(env)
