"""``DateHeader``: every HTTP response leaves with exactly one ``Date`` header.

uvicorn's own Date header is off (it would double the ``Date`` of a response a Worker
fetched and returned as is); the Worker runtime adds one when a Worker's response has none,
and this wrapper does the same for every other app the server mounts: ``ManagementPaths``
wraps edgekv's own paths (REST API, explorer, health), ``DevServer`` the 404 app it serves
without a Worker. The Worker's path is not wrapped (the hot path; it has its Date already).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from edgekv.asgi_types import ASGIApp, Message, Receive, Send
from edgekv.runtime.asgi_server import http_date

__all__ = ["DateHeader"]



class DateHeader:
    """Wrap an ASGI app; add ``date`` to an ``http.response.start`` that has none."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive,
                       send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == b"date" for name, _ in headers):
                    headers.append((b"date", http_date()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_date)
