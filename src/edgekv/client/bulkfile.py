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
from edgekv.kv import jsjson
from edgekv.storage import Record

__all__ = [
    "KEY_VALUE_INTERFACE",
    "BulkFileError",
    "BulkItem",
    "describe_js",
    "export_item",
    "iter_json_array",
    "parse_key_item",
    "parse_put_item",
]

_CHUNK_CHARS = 1 << 16
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


def _js_typeof(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return "object"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def describe_js(value: Any) -> str:
    """``JSON.stringify(value)`` as wrangler shows a bad item."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def iter_json_array(stream: IO[str], filename: str) -> Iterator[Any]:
    """Yield the items of the JSON array in ``stream``, reading it in chunks.

    Raises ``BulkFileError`` if the text is not JSON or the top level is not an array.
    """
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = stream.read(_CHUNK_CHARS)
        if not chunk:
            eof = True
            return False
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
            except json.JSONDecodeError as exc:
                if fill():
                    continue
                raise BulkFileError(f'Could not parse "{filename}" as JSON: {exc}') from None
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
            f'Expected an array of key-value objects but got type "{_js_typeof(value)}".'
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
