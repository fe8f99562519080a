"""``RequestLimits``: the ASGI middleware that keeps one request from hurting the server.

Used by every edgekv HTTP server (``edgekv dev``, ``edgekv serve``) around the Worker (the
management paths in front of it keep their own limits and JSON errors):

- **Body size.** A request whose ``Content-Length`` exceeds ``max_body_bytes`` (Cloudflare's
  100 MB by default, ``--max-body-size`` to change it) gets ``413`` before any of its body is
  read; a chunked body is counted as it arrives and stopped at the limit the same way. An
  unparseable ``Content-Length`` gets ``400``. (Malformed header lines - a bare CR or LF,
  control characters - are answered ``400`` by the HTTP parser before the app runs.)
- **Client disconnect.** When the client goes away before the response is complete, the
  request's handler is cancelled, as workerd cancels it. Work registered with
  ``ctx.waitUntil`` runs in its own task and still finishes.
- **Shutdown.** A handler cancelled because the server stops answers ``503`` if it had not
  started its response, and ends without a ``CancelledError`` traceback in the log.

``GET`` and ``HEAD`` requests without a body (nearly all requests, and the hot path) reach
the app with the server's own ``receive`` and ``send``, unwrapped; the watcher reads the
server's ``receive`` itself. That asks two things of the app, which the Worker runtime does:
it does not read the body of such a request, and it returns as soon as its response is
complete (the server's ``receive`` reports the end of the response and a client that left
alike). A 503 at shutdown is then attempted whatever was sent, and dropped by the server when
the response had already started.

The middleware does not look at the Host or Origin headers (the management paths check those
themselves, and the Worker's routes are open to any Host), so it composes with any guard.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from edgekv.asgi_types import ASGIApp, Message, Receive, Scope, Send
from edgekv.runtime.asgi_server import http_date

__all__ = ["DEFAULT_MAX_BODY_BYTES", "RequestLimits", "parse_size"]


DEFAULT_MAX_BODY_BYTES = 100_000_000  # Cloudflare's request body limit (100 MB, Free and Pro plans)
# Every this often, requests still running get a task that watches for their client leaving;
# quicker ones (nearly all) never pay for that task: one sweeper per server does the rounds.
_WATCH_AFTER_SECONDS = 0.05
# The sweeper stops after this many rounds without a request to watch (one second), so an
# idle server does not wake up; a busy one keeps it instead of starting a task per request.
_IDLE_ROUNDS = 20

_TOO_LARGE_PAGE = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_BODYLESS_METHODS = frozenset({"GET", "HEAD"})
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


def parse_size(text: str) -> int:
    """``"100MB"``, ``"512KiB"``, ``"1048576"`` -> bytes. Raises ``ValueError``."""
    raw = text.strip().lower().replace(" ", "")
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(number):]
    if unit not in _UNITS or not number:
        raise ValueError(f"not a size: {text!r} (use bytes, or a number with KB, MB, GB, KiB, MiB, GiB)")
    value = float(number) * _UNITS[unit]
    if value < 0:
        raise ValueError(f"not a size: {text!r}")
    return int(value)


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), (b"date", http_date()),
    ]})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """Wrap an ASGI app with the limits of the module docstring."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._waiting: set[_Exchange] = set()  # requests whose body is in, response not done
        self._sweeper: asyncio.Task[None] | None = None
        # The serving loop, taken at the first request: asyncio.current_task(loop) then costs
        # a dict lookup (without it, CPython 3.11 asks the kernel for the pid on every call).
        self._loop: asyncio.AbstractEventLoop | None = None

    def close(self) -> None:
        """Stop the sweeper (the server has stopped serving)."""
        if self._sweeper is not None:
            self._sweeper.cancel()

    def _track(self, exchange: _Exchange) -> None:
        self._waiting.add(exchange)
        if self._sweeper is None:
            loop = self._loop or asyncio.get_running_loop()
            self._sweeper = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        idle = 0
        try:
            while idle < _IDLE_ROUNDS:
                await asyncio.sleep(_WATCH_AFTER_SECONDS)
                idle = 0 if self._waiting else idle + 1
                for exchange in list(self._waiting):
                    exchange.start_watcher()
        finally:
            self._sweeper = None  # the next request starts a new round

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: int | None = None
        chunked = False
        for name, value in scope.get("headers", ()):
            if name == b"transfer-encoding":
                chunked = True
            elif name == b"content-length":
                if not value.isdigit():
                    await _respond(send, 400, b"Bad Request: invalid Content-Length", b"text/plain")
                    return
                length = int(value)
        if length is not None and length > self.max_body_bytes:
            await _respond(send, 413, _TOO_LARGE_PAGE, b"text/html")
            return
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        body_expected = chunked or (length is not None and length > 0)
        handler = asyncio.current_task(loop)
        if not body_expected and scope["method"] in _BODYLESS_METHODS:  # the hot path
            exchange = _Exchange(self, receive, send, handler, body_expected=False,
                                 passthrough=True)
            exchange.watch()
            app_receive, app_send = receive, send
        else:
            exchange = _Exchange(self, receive, send, handler, body_expected=body_expected)
            if not body_expected:  # nothing to read: watch for a disconnect from the start
                exchange.watch()
            app_receive, app_send = exchange.receive, exchange.send
        try:
            await self.app(scope, app_receive, app_send)
        except asyncio.CancelledError:
            if not exchange.client_gone and not exchange.started:  # the server is shutting down
                with contextlib.suppress(Exception):
                    await _respond(send, 503, b"Service Unavailable", b"text/plain")
            # Either way the cancellation ends here: uvicorn would log it as a traceback.
            task = asyncio.current_task(loop)
            if task is not None:
                task.uncancel()
        finally:
            self._waiting.discard(exchange)
            exchange.stop_watcher()


class _Exchange:
    """One request: counts its body, watches for the client leaving, reports cancellation."""

    __slots__ = ("_body_done", "_empty_body_pending", "_handler", "_receive", "_send", "_watcher",
                 "client_gone", "complete", "limits", "received", "started", "too_large")

    def __init__(self, limits: RequestLimits, receive: Receive, send: Send,
                 handler: asyncio.Task[Any] | None, *, body_expected: bool,
                 passthrough: bool = False) -> None:
        self.limits = limits
        self._receive = receive
        self._send = send
        self.received = 0
        self.started = False
        self.complete = False
        self.client_gone = False
        self.too_large = False
        # Without a body, the app's first receive() is answered here and the watcher owns the
        # real receive() from the start (it skips the empty body message). Passed through,
        # the app never calls our receive() and send() (module docstring).
        self._body_done = not body_expected
        self._empty_body_pending = self._body_done and not passthrough
        self._watcher: asyncio.Task[None] | None = None
        self._handler = handler

    def watch(self) -> None:
        """From now on the client may be watched (the sweeper starts the watcher)."""
        self.limits._track(self)

    def stop_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()

    def start_watcher(self) -> None:
        if self._watcher is None and not self.complete:
            self._watcher = asyncio.create_task(self._wait_for_disconnect())

    async def _wait_for_disconnect(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                if not self.complete and self._handler is not None:
                    self.client_gone = True
                    self._handler.cancel()
                return

    async def receive(self) -> Message:
        if self._empty_body_pending:
            self._empty_body_pending = False
            return {"type": "http.request", "body": b"", "more_body": False}
        if self._body_done:  # the body was read: what is left is the end of the exchange
            if not self.complete:
                await asyncio.Event().wait()  # the watcher cancels us when the client leaves
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limits.max_body_bytes:
                # Answer 413 now and end the handler as a cancelled one: whatever it does
                # with the error, nothing more of it reaches the client.
                self.too_large = True
                await _respond(self._send, 413, _TOO_LARGE_PAGE, b"text/html")
                self.started = self.complete = True
                raise asyncio.CancelledError
            if not message.get("more_body", False):
                self._body_done = True
                self.watch()
        return message

    async def send(self, message: Message) -> None:
        if self.too_large:  # the 413 went out already
            return
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete = True
        await self._send(message)
