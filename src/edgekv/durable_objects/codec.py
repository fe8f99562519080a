"""Structured values for ``ctx.storage`` and RPC: a tagged-JSON codec and a deep copy.

Cloudflare stores values with V8's structured-clone serializer. The Python equivalent here
accepts this closed set of types, nested freely:

    None, bool, int (up to 2**30 bits, V8's BigInt limit), float (incl. nan/inf), str, bytes (bytearray and memoryview
    come back as bytes), list, tuple, dict (any cloneable hashable keys), set, frozenset,
    datetime.datetime, datetime.date, datetime.time, datetime.timedelta, decimal.Decimal, uuid.UUID

Anything else raises ``DataCloneError``. Cyclic structures raise ``DataCloneError`` too (V8
would preserve them; we do not).

The stored form is UTF-8 JSON. JSON objects whose keys are all strings and do not include
``"$"`` are stored as-is; every other type is an object ``{"$": tag, "v": payload}``. Decoding
only ever builds the types above from data: it never imports, looks up or calls anything named
in the payload, so a hostile stored value cannot execute code (contrast ``pickle``). An unknown
tag or malformed document raises ``StoredValueError``.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Callable
from typing import Any

from edgekv.durable_objects.errors import DataCloneError, DurableObjectRangeError, StoredValueError

__all__ = ["clone", "decode", "encode"]

_TAG = "$"
_CONTAINER_TAGS: dict[type, str] = {tuple: "t", set: "s", frozenset: "fs"}
_DECIMAL_INT = 10**4000 - 1  # ints up to this many digits are stored as JSON numbers
_MAX_BIGINT_BITS = 1 << 30  # V8's BigInt::kMaxLengthBits
_STACK = "Maximum call stack size exceeded"  # V8's RangeError text


def _cannot(value: object) -> DataCloneError:
    return DataCloneError(f"{type(value).__name__} object {value!r:.80} could not be cloned.")


# -- encode ------------------------------------------------------------------------------


def _enc(value: Any, seen: set[int]) -> Any:
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        if -_DECIMAL_INT <= value <= _DECIMAL_INT:
            return value
        return _big_int(value)
    if t is float:
        if math.isfinite(value):
            return value
        return {_TAG: "f", "v": repr(value)}  # 'nan', 'inf', '-inf'
    if t is list or t is tuple or t is set or t is frozenset or t is dict:
        marker = id(value)
        if marker in seen:
            raise DataCloneError("cyclic structures could not be cloned.")
        seen.add(marker)
        try:
            if t is list:
                return [_enc(item, seen) for item in value]
            if t is dict:
                if all(type(k) is str for k in value) and _TAG not in value:
                    return {k: _enc(v, seen) for k, v in value.items()}
                return {_TAG: "m", "v": [[_enc(k, seen), _enc(v, seen)] for k, v in value.items()]}
            tag = _CONTAINER_TAGS[t]
            return {_TAG: tag, "v": [_enc(item, seen) for item in value]}
        finally:
            seen.discard(marker)
    if t is bytes or t is bytearray or t is memoryview:
        return {_TAG: "b", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if t is dt.datetime:
        return {_TAG: "dt", "v": value.isoformat()}
    if t is dt.date:
        return {_TAG: "d", "v": value.isoformat()}
    if t is dt.time:
        return {_TAG: "tm", "v": value.isoformat()}
    if t is dt.timedelta:
        return {_TAG: "td", "v": [value.days, value.seconds, value.microseconds]}
    if t is decimal.Decimal:
        return {_TAG: "dec", "v": str(value)}
    if t is uuid.UUID:
        return {_TAG: "u", "v": value.hex}
    raise _cannot(value)


def _big_int(value: int) -> Any:
    # Python's int -> str refuses past 4300 digits; hex has no such limit. V8's BigInt stops
    # at 2**30 bits, so structured clone (and so Durable Object storage) does too.
    if value.bit_length() > _MAX_BIGINT_BITS:
        raise DurableObjectRangeError("Maximum BigInt size exceeded")
    return {_TAG: "ih", "v": format(value, "x")}


def encode(value: Any) -> bytes:
    """Serialize ``value`` to bytes. Raises ``DataCloneError`` for unsupported types, and
    ``DurableObjectRangeError`` where V8 throws ``RangeError`` (a BigInt beyond 2**30 bits,
    nesting deeper than the stack: "Maximum call stack size exceeded").

    Strings may hold lone surrogates (a JS string may): they are stored as WTF-8."""
    try:
        text = json.dumps(
            _enc(value, set()), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except RecursionError:
        raise DurableObjectRangeError(_STACK) from None
    return text.encode("utf-8", "surrogatepass")


# -- decode ------------------------------------------------------------------------------


def _float(v: str) -> float:
    if v not in ("nan", "inf", "-inf"):
        raise ValueError(v)
    return float(v)


def _mapping(v: list[Any]) -> dict[Any, Any]:
    return {k: val for k, val in v}


def _timedelta(v: list[int]) -> dt.timedelta:
    days, seconds, micros = v
    return dt.timedelta(days=days, seconds=seconds, microseconds=micros)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "f": _float,
    "m": _mapping,
    "t": tuple,
    "s": set,
    "fs": frozenset,
    "b": lambda v: base64.b64decode(v.encode("ascii"), validate=True),
    "dt": dt.datetime.fromisoformat,
    "d": dt.date.fromisoformat,
    "tm": dt.time.fromisoformat,
    "td": _timedelta,
    "dec": decimal.Decimal,
    "u": lambda v: uuid.UUID(hex=v),
    "ih": lambda v: int(v, 16),
}
_PAYLOAD_TYPES: dict[str, type] = {"m": list, "t": list, "s": list, "fs": list, "td": list}


def _hook(obj: dict[str, Any]) -> Any:
    if _TAG not in obj:
        return obj
    tag = obj[_TAG]
    decoder = _DECODERS.get(tag) if type(tag) is str and len(obj) == 2 else None
    if decoder is None or "v" not in obj:
        raise StoredValueError(f"unknown tag in stored value: {tag!r:.40}")
    payload = obj["v"]
    if type(payload) is not _PAYLOAD_TYPES.get(tag, str):
        raise StoredValueError(f"malformed payload for tag {tag!r}")
    try:
        return decoder(payload)
    except (ValueError, TypeError, decimal.InvalidOperation) as exc:
        raise StoredValueError(f"malformed payload for tag {tag!r}: {exc}") from exc


def decode(data: bytes) -> Any:
    """Rebuild a value written by ``encode``. Raises ``StoredValueError`` on anything else."""
    try:
        return json.loads(data.decode("utf-8", "surrogatepass"), object_hook=_hook)
    except StoredValueError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:
        raise StoredValueError(f"stored value is not a valid document: {exc}") from exc


# -- clone -------------------------------------------------------------------------------

_IMMUTABLE = frozenset(
    {type(None), bool, int, float, str, bytes, dt.datetime, dt.date, dt.time, dt.timedelta,
     decimal.Decimal, uuid.UUID}
)


def _clone(value: Any, seen: set[int], passthrough: tuple[type, ...]) -> Any:
    t = type(value)
    if t in _IMMUTABLE:
        return value
    if t is list or t is dict or t is tuple or t is set or t is frozenset:
        marker = id(value)
        if marker in seen:
            raise DataCloneError("cyclic structures could not be cloned.")
        seen.add(marker)
        try:
            if t is list:
                return [_clone(item, seen, passthrough) for item in value]
            if t is dict:
                return {_clone(k, seen, passthrough): _clone(v, seen, passthrough)
                        for k, v in value.items()}
            return t(_clone(item, seen, passthrough) for item in value)
        finally:
            seen.discard(marker)
    if t is bytearray or t is memoryview:
        return bytes(value)
    if passthrough and isinstance(value, passthrough):
        return value
    raise _cannot(value)


def clone(value: Any, passthrough: tuple[type, ...] = ()) -> Any:
    """A deep copy with structured-clone rules (the RPC argument and result copy).

    Same types as ``encode`` plus instances of the ``passthrough`` types (stubs, ids, the
    Worker runtime's Request and Response), which are passed by reference; ``encode``
    (storage) still rejects those. Raises ``DataCloneError`` otherwise.
    """
    try:
        return _clone(value, set(), passthrough)
    except RecursionError:
        raise DurableObjectRangeError(_STACK) from None
