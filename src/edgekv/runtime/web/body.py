"""The body half of ``Request`` and ``Response``: read-once bytes or a byte stream.

Contract shared with the Workers SDK (which inherits it from the Fetch standard):

* a body is consumed by the first ``text()``/``json()``/``bytes()``/``buffer()``/
  ``form_data()``/``blob()`` call, or by iterating ``body``; a second read raises
  ``OSError("Body already used")`` and ``body_used`` turns ``True``;
* ``clone()`` before reading gives an independent copy (a stream is tee'd, not buffered);
* ``text()`` decodes UTF-8 with replacement characters, as ``TextDecoder`` does.

A body is held either as ``bytes`` (``_content``) or as an async iterator of ``bytes``
(``_stream``); nothing is read or copied until a reader asks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from edgekv.runtime.ffi import JsBuffer
from edgekv.runtime.web.blob import Blob
from edgekv.runtime.web.formdata import FormData, encode_multipart, parse_form
from edgekv.runtime.web.headers import Headers

__all__ = ["BODY_USED_MESSAGE", "TEXT_PLAIN", "Body", "BodyStream", "extract_body", "tee"]

BODY_USED_MESSAGE = "Body already used"
TEXT_PLAIN = "text/plain;charset=UTF-8"

_Bytes = bytes  # ``Body.bytes`` shadows the builtin inside the class body
_BodyParts = tuple["bytes | None", "AsyncIterator[bytes] | None", "str | None"]


def extract_body(body: Any, owner: str = "Response") -> _BodyParts:
    """Turn a user-supplied body into ``(content, stream, default_content_type)``.

    Accepted, as by the Workers SDK: ``None``, ``str`` (UTF-8, ``text/plain;charset=UTF-8``),
    ``bytes``, ``FormData`` (multipart), ``Blob``/``File`` (its type), and an async iterable of
    ``bytes`` (edgekv's stand-in for a ``ReadableStream``). Anything else, ``dict`` included,
    raises ``TypeError("Unsupported type in <owner>: <type>")`` as the SDK does.
    """
    if body is None:
        return None, None, None
    if isinstance(body, str):
        return body.encode("utf-8"), None, TEXT_PLAIN
    if isinstance(body, bytes):
        return bytes(body), None, None
    if isinstance(body, FormData):
        encoded, ctype = encode_multipart(body)
        return encoded, None, ctype
    if isinstance(body, Blob):
        return body.to_bytes(), None, body.content_type or None
    if isinstance(body, Body):
        content, stream = body.take_body()
        return content, stream, body._content_type()
    if hasattr(body, "__aiter__"):
        return None, body.__aiter__(), None
    raise TypeError(f"Unsupported type in {owner}: {type(body).__name__}")


class Body:
    """Mixin holding a read-once body; subclasses provide ``headers``."""

    __slots__ = ("_content", "_stream", "_used")

    _content: bytes | None
    _stream: AsyncIterator[bytes] | None
    _used: bool

    headers: Headers  # provided by Request / Response

    def _init_body(self, content: bytes | None, stream: AsyncIterator[bytes] | None) -> None:
        self._content = content
        self._stream = stream
        self._used = False

    @property
    def body_used(self) -> bool:
        """``True`` once the body has been read (or its stream iterated)."""
        return self._used

    bodyUsed = body_used

    @property
    def body(self) -> BodyStream | None:
        """The body as an async iterator of ``bytes`` chunks, or ``None`` when there is none."""
        if self._content is None and self._stream is None:
            return None
        return BodyStream(self)

    def take_body(self) -> tuple[bytes | None, AsyncIterator[bytes] | None]:
        """Mark the body used and hand over what it holds: ``(bytes, None)``, ``(None,
        stream)`` or ``(None, None)``. For edgekv's bridges (a server sending the response,
        a rewriter consuming it); raises ``OSError`` if the body was already used."""
        if self._used:
            raise OSError(BODY_USED_MESSAGE)
        self._used = True
        return self._content, self._stream

    def _content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return None if value is None else str(value)

    async def bytes(self) -> bytes:
        """The whole body as ``bytes`` (``b""`` when there is none)."""
        content, stream = self.take_body()
        if content is not None:
            return content
        if stream is None:
            return b""
        return b"".join([chunk async for chunk in stream])

    async def text(self) -> str:
        return (await self.bytes()).decode("utf-8", errors="replace")

    async def json(self, **kwargs: Any) -> Any:
        """``json.loads`` of the body; keyword arguments go to ``json.loads``."""
        return json.loads(await self.text(), **kwargs)

    async def buffer(self) -> JsBuffer:
        """The body as a ``JsBuffer`` (bytes with ``to_bytes()``/``to_py()``, as a Pyodide buffer)."""
        return JsBuffer(await self.bytes())

    arrayBuffer = buffer

    async def memoryview(self) -> memoryview:
        return memoryview(await self.bytes())

    async def blob(self) -> Blob:
        ctype = self._content_type()
        return Blob(await self.bytes(), ctype or "")

    async def form_data(self) -> FormData:
        """Parse a multipart or urlencoded body; ``TypeError`` for other content types."""
        ctype = self._content_type()
        return parse_form(await self.bytes(), ctype)

    formData = form_data

    def _clone_body(self) -> tuple[_Bytes | None, AsyncIterator[_Bytes] | None]:
        """Body parts for a clone; a stream is split so both sides read it independently."""
        if self._used:
            raise OSError(BODY_USED_MESSAGE)
        if self._stream is None:
            return self._content, None
        mine, theirs = tee(self._stream)
        self._stream = mine
        return None, theirs


class BodyStream:
    """Async iterator over a body's chunks; starting it consumes the body."""

    __slots__ = ("_iter", "_owner")

    def __init__(self, owner: Body) -> None:
        self._owner = owner
        self._iter: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> BodyStream:
        return self

    async def __anext__(self) -> bytes:
        if self._iter is None:
            content, stream = self._owner.take_body()
            self._iter = stream if stream is not None else _once(content or b"")
        return await self._iter.__anext__()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


def tee(source: AsyncIterator[bytes] | AsyncIterable[bytes]) -> tuple[
    AsyncIterator[bytes], AsyncIterator[bytes]
]:
    """Split one byte stream into two that each see every chunk.

    Chunks are kept until both branches have read them (like ``ReadableStream.tee``).
    """
    iterator = source.__aiter__()
    buffers: tuple[list[bytes], list[bytes]] = ([], [])
    lock = asyncio.Lock()
    done = False

    async def branch(index: int) -> AsyncIterator[bytes]:
        nonlocal done
        mine, other = buffers[index], buffers[1 - index]
        while True:
            if mine:
                yield mine.pop(0)
                continue
            if done:
                return
            async with lock:
                if mine or done:
                    continue
                try:
                    chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    done = True
                    continue
                mine.append(chunk)
                other.append(chunk)

    return branch(0), branch(1)
