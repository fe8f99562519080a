"""``ByteStream``, the ``type="stream"`` result handed back to Worker code.

The other results are ``edgekv.js.JsDict`` (the one dict-with-attributes of every path).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

__all__ = ["ByteStream"]

_STREAM_CHUNK_BYTES = 64 * 1024


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
