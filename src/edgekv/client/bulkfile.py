"""wrangler's bulk files: a JSON array read one item at a time, and the item shapes.

``kv bulk put`` takes ``[{"key", "value", "expiration"?, "expiration_ttl"?, "metadata"?,
"base64"?}]``; ``kv bulk get`` and ``kv bulk delete`` take ``["key", ...]`` or
``[{"name": "key"}, ...]``. Files are streamed, so memory stays flat in the number of items.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from edgekv.errors import EdgeKVError
from edgekv.js import int_from_json, stringify, typeof
from edgekv.kv import jsjson
from edgekv.storage import Record

__all__ = [
    "KEY_VALUE_INTERFACE",
    "MAX_ITEM_CHARS",
    "BulkFileError",
    "BulkItem",
    "describe_js",
    "export_item",
    "iter_json_array",
    "parse_key_item",
    "parse_put_item",
]

_CHUNK_CHARS = 1 << 16
# One item's JSON text can be this long: a 25 MiB value written with \uXXXX escapes (6
# characters per byte) plus metadata and key. Past it, reading stops (an endless stream).
MAX_ITEM_CHARS = 6 * (25 << 20) + (1 << 20)
_WS = " \t\n\r"
_PUT_FIELDS = {"key", "value", "expiration", "expiration_ttl", "metadata", "base64"}

KEY_VALUE_INTERFACE = (
    "Each item in the array should be an object that matches:\n\n"
    "interface KeyValue {\n"
    "  key: string;\n"
    "  value: string;\n"
    "  expiration?: number;\n"
    "  expiration_ttl?: number;\n"
    "  metadata?: object;\n"
    "  base64?: boolean;\n"
    "}\n"
)


class BulkFileError(EdgeKVError):
    """A bulk file cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class BulkItem:
    """One valid ``bulk put`` item with its value already decoded to bytes."""

    key: str
    value: bytes
    expiration: float | None
    expiration_ttl: float | None
    metadata: Any
    unexpected: tuple[str, ...]


def describe_js(value: Any) -> str:
    """``JSON.stringify(value)`` as wrangler shows a bad item."""
    text = stringify(value)
    return "undefined" if text is None else text


class _Constant(ValueError):
    """``NaN``/``Infinity``/``-Infinity``: Python's json takes them, ``JSON.parse`` does not."""


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


def iter_json_array(
    stream: IO[str], filename: str, *, max_item_chars: int = MAX_ITEM_CHARS
) -> Iterator[Any]:
    """Yield the items of the JSON array in ``stream``, reading it in chunks.

    Numbers are read as ``JSON.parse`` reads them (integers beyond 2**53 become doubles).
    Raises ``BulkFileError`` if the text is not UTF-8, is not JSON as ``JSON.parse`` reads
    it (no ``NaN``/``Infinity``), nests deeper than Python's parser goes, holds one item of
    more than ``max_item_chars`` characters (reading stops there: ``/dev/zero`` or an
    endless string cannot exhaust memory), or the top level is not an array.

    Linear in the input: an item that does not fit the buffer makes the next read at least
    as large as the buffer, so a 25 MiB value is parsed a handful of times, not once per
    64 KiB chunk.
    """
    decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_int=int_from_json)
    buf = ""
    pos = 0
    eof = False
    consumed = 0  # characters dropped from the front of ``buf`` (for error positions)

    def fill(at_least: int = _CHUNK_CHARS) -> bool:
        nonlocal buf, pos, eof, consumed
        if eof:
            return False
        try:
            chunk = stream.read(max(at_least, _CHUNK_CHARS))
        except UnicodeDecodeError as exc:
            raise BulkFileError(
                f'Could not read "{filename}": it is not UTF-8 text ({exc.reason} near byte '
                f"{exc.start} of a read block). Save it as UTF-8, or use base64 values."
            ) from None
        if not chunk:
            eof = True
            return False
        consumed += pos
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def skip_ws() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in _WS:
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not fill():
                return ""

    def decode() -> Any:
        nonlocal pos
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
            except _Constant as exc:
                raise BulkFileError(f'Could not parse "{filename}" as JSON: {_constant_text(str(exc))}') from None
            except RecursionError:
                raise BulkFileError(
                    f'Could not parse "{filename}" as JSON: an item nests arrays or objects '
                    "deeper than edgekv can read (about 900 levels)"
                ) from None
            except json.JSONDecodeError as exc:
                if len(buf) - pos > max_item_chars:
                    raise BulkFileError(_too_large(filename, max_item_chars)) from None
                if fill(len(buf) - pos):
                    continue
                raise BulkFileError(
                    f'Could not parse "{filename}" as JSON: {exc.msg} (character {consumed + exc.pos + 1})'
                ) from None
            # A number or literal may continue in the next chunk ("12" then "3").
            if end == len(buf) and not eof and fill():
                continue
            pos = end
            return value

    first = skip_ws()
    if first != "[":
        value = decode() if first else None
        if not first:
            raise BulkFileError(f'Could not parse "{filename}" as JSON: the file is empty')
        raise BulkFileError(
            f'Unexpected JSON input from "{filename}".\n'
            f'Expected an array of key-value objects but got type "{typeof(value)}".'
        )
    pos += 1
    if skip_ws() == "]":
        pos += 1
    else:
        while True:
            yield decode()
            sep = skip_ws()
            if sep == ",":
                pos += 1
                skip_ws()
                continue
            if sep == "]":
                pos += 1
                break
            raise BulkFileError(
                f'Could not parse "{filename}" as JSON: expected "," or "]" after an array item'
            )
    if skip_ws() != "":
        raise BulkFileError(f'Could not parse "{filename}" as JSON: extra data after the array')


def _constant_text(name: str) -> str:
    """V8's ``JSON.parse`` message for a non-JSON constant (``NaN``, ``Infinity``, ``-Infinity``)."""
    if name.startswith("-"):
        return "No number after minus sign in JSON"
    return f"Unexpected token '{name[0]}', \"{name}\" is not valid JSON"


def _too_large(filename: str, limit: int) -> str:
    return (f'"{filename}" holds an item of more than {limit:,} characters, beyond what any '
            "value KV can store (25 MiB, escaped as JSON); reading stopped there.")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_put_item(item: Any) -> BulkItem | None:
    """A valid ``bulk put`` item, or ``None`` when its shape is wrong (wrangler's
    ``isKVKeyValue``). Raises ``ValueError`` for ``base64`` values that do not decode."""
    if not isinstance(item, dict):
        return None
    key, value = item.get("key"), item.get("value")
    if not isinstance(key, str) or not isinstance(value, str):
        return None
    for name in ("expiration", "expiration_ttl"):
        if name in item and not _is_number(item[name]):
            return None
    if "base64" in item and not isinstance(item["base64"], bool):
        return None
    metadata = item.get("metadata")
    if "metadata" in item and not (metadata is None or isinstance(metadata, (dict, list))):
        return None
    if item.get("base64"):
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("its value is not valid base64") from None
    else:
        data = value.encode("utf-8", "surrogatepass")
    return BulkItem(
        key=key,
        value=data,
        expiration=item.get("expiration"),
        expiration_ttl=item.get("expiration_ttl"),
        metadata=metadata,
        unexpected=tuple(k for k in item if k not in _PUT_FIELDS),
    )


def parse_key_item(item: Any) -> str | None:
    """A key named by a ``bulk get``/``bulk delete`` item (``"k"`` or ``{"name": "k"}``)."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        return str(item["name"])
    return None


def export_item(record: Record) -> dict[str, Any]:
    """A record as a ``bulk put`` item: the value as text when it is UTF-8, else base64."""
    raw = record.value or b""
    try:
        item: dict[str, Any] = {"key": record.key, "value": raw.decode("utf-8")}
    except UnicodeDecodeError:
        item = {"key": record.key, "value": base64.b64encode(raw).decode("ascii"), "base64": True}
    if record.expiration is not None:
        item["expiration"] = record.expiration
    if record.metadata is not None:
        item["metadata"] = jsjson.parse(record.metadata)
    return item
