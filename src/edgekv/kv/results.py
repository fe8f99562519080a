"""Result types handed back to Worker code.

``JsDict`` is what Cloudflare's Python SDK returns for JS objects: a ``dict`` that also
allows attribute access for names that are not ``dict`` methods (``r.list_complete``,
``r.cursor``; ``r.keys`` stays the dict method, exactly as on Cloudflare).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

__all__ = ["ByteStream", "JsDict"]

_STREAM_CHUNK_BYTES = 64 * 1024


class JsDict(dict[str, Any]):
    """A dict whose keys can also be read as attributes."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_py(self) -> JsDict:
        """Legacy ``JsProxy.to_py()``: the value already is a Python dict."""
        return self


class ByteStream:
    """The ``type="stream"`` result: an async iterator over the value's bytes in chunks."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._pos >= len(self._data):
            raise StopAsyncIteration
        chunk = bytes(self._data[self._pos : self._pos + _STREAM_CHUNK_BYTES])
        self._pos += len(chunk)
        return chunk

    async def read(self) -> bytes:
        """Read everything that is left."""
        rest = bytes(self._data[self._pos :])
        self._pos = len(self._data)
        return rest
