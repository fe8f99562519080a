"""Small ASGI helpers of the REST API: the parsed request, body reading, JSON and byte replies.

The API is a plain ASGI app rather than a framework's: it has a fixed, small set of routes,
and it must route on the *raw* path (a key name may contain an encoded ``/``), read bodies
under a byte limit, and answer with Cloudflare's exact envelope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from edgekv.asgi_types import Receive, Scope, Send
from edgekv.errors import EdgeKVError

__all__ = [
    "ApiRequest",
    "BodyTooLarge",
    "Receive",
    "Scope",
    "Send",
    "read_body",
    "send_bytes",
    "send_json",
]



class BodyTooLarge(EdgeKVError):
    """The request body is larger than allowed (answered with 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


@dataclass(slots=True)
class ApiRequest:
    """One API request: method, raw path below the API root, query, lower-cased headers."""

    scope: Scope
    receive: Receive
    method: str
    path: str  # raw (still percent-encoded), relative to the API root, starts with "/"
    query: dict[str, str]
    headers: dict[str, str]

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive, root: str) -> ApiRequest:
        raw = scope.get("raw_path")
        if raw:
            path = raw.decode("latin-1").split("?", 1)[0]
        else:
            path = scope["path"]
        query_string = scope.get("query_string", b"").decode("latin-1")
        query: dict[str, str] = {}
        for name, value in parse_qsl(query_string, keep_blank_values=True, encoding="utf-8",
                                     errors="replace"):
            query.setdefault(name, value)  # the first occurrence wins
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", ()):
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        return cls(scope, receive, scope["method"], path[len(root):] or "/", query, headers)

    def content_length(self) -> int | None:
        text = self.headers.get("content-length")
        if text is None or not text.strip().isdigit():
            return None
        return int(text)


async def read_body(request: ApiRequest, limit: int) -> bytes:
    """The whole body, refusing (``BodyTooLarge``) as soon as it passes ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before anything is read.
    """
    declared = request.content_length()
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if len(chunks) == 1:
        return chunks[0]
    return b"".join(chunks)


async def send_bytes(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    """One complete response (``content-length`` added)."""
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


_JSON_HEADERS = [(b"content-type", b"application/json")]


async def send_json(send: Send, status: int, data: Any, extra: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
    """A JSON response (compact, UTF-8)."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    await send_bytes(send, status, body, [*_JSON_HEADERS, *extra])
