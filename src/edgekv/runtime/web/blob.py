"""``Blob`` and ``File``: immutable bytes with a content type, as in the Workers SDK.

The SDK wraps a JavaScript ``Blob``; on CPython the bytes live in the object. The reading
methods stay ``async`` so Worker code awaits them exactly as on Cloudflare.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, TypeAlias

__all__ = ["Blob", "BlobEnding", "BlobValue", "File"]

BlobValue: TypeAlias = "str | bytes | bytearray | memoryview | Blob"


class BlobEnding(StrEnum):
    """How ``\\n`` in string parts is written (JavaScript ``endings`` option)."""

    TRANSPARENT = "transparent"
    NATIVE = "native"


def _part_bytes(part: Any, endings: str | None) -> bytes:
    if isinstance(part, str):
        if endings == BlobEnding.NATIVE:
            # Workers run on Linux, where the native line ending is already "\n".
            part = part.replace("\r\n", "\n")
        return part.encode("utf-8")
    if isinstance(part, Blob):
        return part._data
    if isinstance(part, bytes | bytearray | memoryview):
        return bytes(part)
    raise TypeError(f"Don't know how to handle {type(part)} for Blob()")


def _is_single(parts: Any) -> bool:
    return isinstance(parts, str | bytes | bytearray | memoryview | Blob) or not isinstance(
        parts, Iterable
    )


class Blob:
    """Immutable bytes plus a MIME type.

    ``Blob(parts, content_type=None, endings=None)``: ``parts`` is one value or an iterable
    of ``str`` (UTF-8 encoded), bytes-like objects and other ``Blob``s. A single ``Blob`` part
    passes its content type on when none is given. Raises ``TypeError`` for other part types.
    """

    __slots__ = ("_content_type", "_data")

    def __init__(
        self,
        blob_parts: Iterable[BlobValue] | BlobValue = (),
        content_type: str | None = None,
        endings: BlobEnding | str | None = None,
    ) -> None:
        if _is_single(blob_parts):
            if not content_type and isinstance(blob_parts, Blob):
                content_type = blob_parts.content_type
            blob_parts = [blob_parts]  # type: ignore[list-item]
        ending = str(endings) if endings else None
        self._data = b"".join(_part_bytes(p, ending) for p in blob_parts)  # type: ignore[union-attr]
        # JavaScript lowercases the type and drops it when it has non-ASCII-printable chars.
        ctype = (content_type or "").lower()
        self._content_type = ctype if all(0x20 <= ord(c) <= 0x7E for c in ctype) else ""

    @property
    def size(self) -> int:
        """Length in bytes."""
        return len(self._data)

    @property
    def content_type(self) -> str:
        """MIME type, ``""`` when unknown."""
        return self._content_type

    # JavaScript spelling, for legacy code holding a ``js.Blob``.
    type = content_type

    @property
    def js_object(self) -> Blob:
        """On CPython the Python object is its own JavaScript-side counterpart."""
        return self

    async def text(self) -> str:
        return self._data.decode("utf-8", errors="replace")

    async def bytes(self) -> bytes:
        return self._data

    def to_bytes(self) -> builtins.bytes:  # ``bytes`` here is the method above
        """The contents, synchronously (as a Pyodide buffer's ``to_bytes()``)."""
        return self._data

    async def arrayBuffer(self) -> memoryview:
        return memoryview(self._data)

    def slice(
        self, start: int | None = None, end: int | None = None, content_type: str | None = None
    ) -> Blob:
        """A new ``Blob`` of bytes ``[start:end]`` (negative indices count from the end)."""
        return Blob(self._data[slice(start, end)], content_type or "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, content_type={self.content_type!r})"


class File(Blob):
    """A ``Blob`` with a file name and a modification time (milliseconds since the epoch)."""

    __slots__ = ("_last_modified", "_name")

    def __init__(
        self,
        blob_parts: Iterable[BlobValue] | BlobValue,
        filename: str,
        content_type: str | None = None,
        endings: BlobEnding | str | None = None,
        last_modified: int | None = None,
    ) -> None:
        if _is_single(blob_parts) and isinstance(blob_parts, File) and not last_modified:
            last_modified = blob_parts.last_modified
        super().__init__(blob_parts, content_type, endings)
        self._name = str(filename)
        self._last_modified = (
            int(last_modified) if last_modified is not None else int(time.time() * 1000)
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def last_modified(self) -> int:
        return self._last_modified

    lastModified = last_modified

    def __repr__(self) -> str:
        return (
            f"File(name={self.name!r}, size={self.size}, content_type={self.content_type!r})"
        )
