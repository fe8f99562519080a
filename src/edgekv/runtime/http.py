"""The HTTP objects of the ``workers`` module, and their bridge to ASGI servers.

Re-exports ``Request``, ``Response``, ``Headers``, ``FormData``, ``Blob``, ``File`` from their
concept modules and adds the two conversions the dev server needs:

* :func:`request_from_asgi` (alias of ``Request.from_asgi``): one ASGI ``http`` scope plus its
  ``receive`` becomes a lazily-decoded ``Request``;
* :func:`send_response`: a ``Response`` goes out through ASGI ``send``, buffered bodies in one
  message (with ``content-length``), streamed bodies chunk by chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate
from typing import Any

from edgekv.runtime.blob import Blob, BlobEnding, File
from edgekv.runtime.formdata import FormData
from edgekv.runtime.headers import Headers
from edgekv.runtime.request import Request
from edgekv.runtime.response import NULL_BODY_STATUSES, Response

__all__ = [
    "Blob",
    "BlobEnding",
    "File",
    "FormData",
    "Headers",
    "Receive",
    "Request",
    "Response",
    "Scope",
    "Send",
    "request_from_asgi",
    "send_response",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("edgekv.runtime")

request_from_asgi = Request.from_asgi


async def send_response(response: Response, send: Send, *, head: bool = False) -> None:
    """Send ``response`` as one ASGI ``http.response.start`` plus body messages.

    A buffered body gets the ``content-length`` of its bytes (a copied one is replaced); a
    streamed body is sent as it is produced (the server chunks it). ``transfer-encoding`` is
    never passed on, header names go out lowercase, and a ``date`` is added when absent (the
    server's own Date header is off, so a fetched response's Date is not doubled).
    ``head=True`` sends headers only. Null-body statuses (101, 204, 205, 304) never carry a
    body. An exception raised by a streaming body after the
    headers went out is logged and the body ended, since the status can no longer change.
    Raises ``OSError("Body already used")`` if the Worker returned a response it had read.
    """
    content, stream = response._take()
    status = response._status
    raw = [(name.lower(), value) for name, value in response._headers.raw()]
    # The server frames the body: a Transfer-Encoding or a stale Content-Length copied from
    # a fetched response must not reach the client next to the real framing.
    raw = [(name, value) for name, value in raw if name != b"transfer-encoding"]
    if status in NULL_BODY_STATUSES:
        content, stream = None, None
    elif stream is None:
        raw = [(name, value) for name, value in raw if name != b"content-length"]
        raw.append((b"content-length", str(len(content or b"")).encode("ascii")))
    if not any(name == b"date" for name, _ in raw):
        raw.append((b"date", formatdate(usegmt=True).encode("ascii")))
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
