"""The server side of ASGI: an ASGI server's request into a Worker, its Response back out.

(The other direction, an ASGI application run *inside* a Worker, is ``asgi_app.py``.)

* :func:`request_from_asgi` (alias of ``Request.from_asgi``): one ASGI ``http`` scope plus its
  ``receive`` becomes a lazily-decoded ``Request``;
* :func:`send_response`: a ``Response`` goes out through ASGI ``send``, buffered bodies in one
  message (with ``content-length``), streamed bodies chunk by chunk;
* :func:`http_date`: the ``Date`` header value, formatted once per second.
"""

from __future__ import annotations

import logging
import time
from email.utils import formatdate

from edgekv.asgi_types import Send
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.response import NULL_BODY_STATUSES, Response

__all__ = ["http_date", "request_from_asgi", "send_response"]


logger = logging.getLogger("edgekv.runtime")

request_from_asgi = Request.from_asgi


_date_cache: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    """The current time as an HTTP ``Date`` value, formatted once per second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode("ascii"))
    return _date_cache[1]


async def send_response(response: Response, send: Send, *, head: bool = False) -> None:
    """Send ``response`` as one ASGI ``http.response.start`` plus body messages.

    A buffered body gets the ``content-length`` of its bytes (a copied one is replaced); a
    streamed body is sent as it is produced (the server chunks it). ``transfer-encoding`` is
    never passed on, header names go out lowercase, and a ``date`` is added when absent (the
    server's own Date header is off, so a fetched response's Date is not doubled).
    ``head=True`` sends headers only. Null-body statuses (101, 204, 205, 304) never carry a
    body. An exception raised by a streaming body after the headers went out is logged and
    the body ended, since the status can no longer change.
    Raises ``OSError("Body already used")`` if the Worker returned a response it had read.
    """
    content, stream = response.take_body()
    status = response.status
    if status in NULL_BODY_STATUSES:
        content, stream = None, None
    buffered = stream is None and status not in NULL_BODY_STATUSES
    # One pass: the server frames the body, so a Transfer-Encoding (or, for a buffered body,
    # a stale Content-Length) copied from a fetched response must not reach the client.
    raw: list[tuple[bytes, bytes]] = []
    has_date = False
    for pair in response.headers.raw():  # names come lowercase (Headers.raw)
        name = pair[0]
        if name == b"transfer-encoding" or (buffered and name == b"content-length"):
            continue
        if name == b"date":
            has_date = True
        raw.append(pair)
    if buffered:
        raw.append((b"content-length", str(len(content or b"")).encode("ascii")))
    if not has_date:
        raw.append((b"date", http_date()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    if head or stream is None:
        await send({"type": "http.response.body", "body": b"" if head else content or b""})
        if head and stream is not None and hasattr(stream, "aclose"):
            await stream.aclose()
        return
    try:
        async for chunk in stream:
            if chunk:
                data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
                await send({"type": "http.response.body", "body": data, "more_body": True})
    except Exception:
        logger.exception("Exception while streaming the response body")
    await send({"type": "http.response.body", "body": b"", "more_body": False})
