"""``AccessLog``: one log line per HTTP request, like wrangler dev's ``GET / 200 OK (3ms)``.

A WebSocket upgrade gets one line too, when it is answered (``GET /room/a 101 Switching
Protocols (2.10ms)``, or the status of the refusal).

The line is ``METHOD /path?query STATUS PHRASE (1.23ms)`` on the ``edgekv.dev`` logger at
INFO (written straight to the console when nothing else would see the record:
``edgekv.server.console.console_target``); the time runs from the call until the app returns (the response has been sent by then;
``waitUntil`` work runs afterwards and is not counted, as on Cloudflare).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from http import HTTPStatus

from edgekv.asgi_types import ASGIApp, Message, Receive, Scope, Send
from edgekv.server.console import console_target

__all__ = ["AccessLog", "format_line"]

logger = logging.getLogger("edgekv.dev")


# "200 OK" for every status with a phrase; others print their number alone.
_SHOWN = {status.value: f"{status.value} {status.phrase}".rstrip() for status in HTTPStatus}
_SHOWN[0] = "(no response)"


def format_line(method: str, target: str, status: int, elapsed_ms: float) -> str:
    """``GET /path 200 OK (1.23ms)``; status 0 means no response was sent.

    Times under 10 ms keep two decimals (local requests are fast), longer ones none.
    """
    shown = _SHOWN.get(status) or str(status)
    elapsed = f"{elapsed_ms:.2f}" if elapsed_ms < 10 else f"{elapsed_ms:.0f}"
    return f"{method} {target} {shown} ({elapsed}ms)"


class AccessLog:
    """Wrap an ASGI app; log every HTTP request it serves."""

    def __init__(self, app: ASGIApp, *, log: logging.Logger = logger) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if not self.log.isEnabledFor(logging.INFO) or (kind != "http" and kind != "websocket"):
            await self.app(scope, receive, send)  # nothing to log: no wrapper, no clock
            return
        if kind == "websocket":
            await self._websocket(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        def send_and_note(message: Message) -> Awaitable[None]:
            # A plain function returning send's awaitable (ASGI asks only for an awaitable):
            # no coroutine of its own per message.
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            target = scope.get("path", "/")
            query = scope.get("query_string")
            if query:
                target = f"{target}?{query.decode('latin-1')}"
            line = format_line(scope["method"], target, status, elapsed_ms)
            route = console_target(self.log, logging.INFO)  # the console's shortcut
            if route is not None:
                handler, prefix = route
                handler.write_line(f"{prefix}{line}\n")
            else:
                self.log.info(line)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket upgrade logs once, when it is answered: ``GET /chat 101 ...``."""
        started = time.perf_counter()
        logged = False

        def note(status: int) -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            target = scope.get("path", "/")
            query = scope.get("query_string")
            if query:
                target = f"{target}?{query.decode('latin-1')}"
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            self.log.info(format_line("GET", target, status, elapsed_ms))

        async def send_and_note(message: Message) -> None:
            kind = message["type"]
            if kind == "websocket.accept":
                note(101)
            elif kind == "websocket.http.response.start":
                note(message["status"])
            elif kind == "websocket.close":
                note(403)  # closed before accepting: uvicorn answers 403
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            note(0)
