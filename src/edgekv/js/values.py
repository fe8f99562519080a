"""JavaScript's view of a Python value: ``undefined``, ``typeof``, ``ToString``, ``ToNumber``.

The value model, used by every layer of edgekv: ``None`` is ``null``; :data:`undefined` is
``undefined`` (an argument that was not passed, a key that is absent); ``bool`` is boolean;
``int`` and ``float`` are numbers; ``str`` is a string; ``dict`` is an object; ``list`` and
``tuple`` are arrays; a callable is a function; anything else is an object.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from edgekv.js.numbers import int_to_decimal, number_to_string

__all__ = ["Undefined", "is_array_index", "to_number", "to_string", "typeof", "undefined"]


class Undefined:
    """The type of :data:`undefined`; there is exactly one instance, compare with ``is``.

    It is falsy, as ``undefined`` is in JavaScript, and prints as ``undefined``.
    """

    __slots__ = ()
    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:  # noqa: PYI034 - always the one instance, never a subclass
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "undefined"  # pickles (and copies) as the module-level singleton


undefined: Final = Undefined()


def typeof(value: Any) -> str:
    """JavaScript's ``typeof`` under the value model above.

    ``undefined`` -> ``"undefined"``; ``None`` -> ``"object"`` (as ``typeof null``); ``bool``
    -> ``"boolean"``; ``int``/``float`` -> ``"number"``; ``str`` -> ``"string"``; a callable
    that is not a container -> ``"function"``; everything else -> ``"object"``.
    """
    if value is undefined:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is not None and not isinstance(value, dict | list | tuple) and callable(value):
        return "function"
    return "object"


def is_array_index(key: str) -> bool:
    """True for a canonical JS array index (``"0"`` ... ``"4294967294"``, no leading zero).

    Such keys come first, in ascending numeric order, when V8 enumerates an object's keys.
    """
    if not key or not key.isdigit() or not key.isascii():
        return False
    if len(key) > 1 and key[0] == "0":
        return False
    return int(key) <= 4294967294


def to_string(value: Any) -> str:
    """JS ``ToString``: ``None`` -> ``"null"``, ``True`` -> ``"true"``, ``2.0`` -> ``"2"``,
    ``undefined`` -> ``"undefined"``, a dict -> ``"[object Object]"``, a list -> its items
    joined with ``,`` (``null``/``undefined`` items as empty strings)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is undefined:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int_to_decimal(value)
    if isinstance(value, float):
        return number_to_string(value)
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list | tuple):
        return ",".join("" if v is None or v is undefined else to_string(v) for v in value)
    return str(value)


_JS_NUMBER = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_JS_WHITESPACE = (
    " \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def to_number(value: Any) -> float:
    """JS ``ToNumber``: ``"45"`` -> 45, ``" 0x1f "`` -> 31, ``"abc"`` -> NaN, ``None`` -> 0,
    ``True`` -> 1, ``undefined`` -> NaN, bytes -> NaN."""
    if value is None:
        return 0.0
    if value is undefined:
        return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # beyond the largest double: JS rounds to an infinity
            return math.inf if value > 0 else -math.inf
    if isinstance(value, float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return math.nan
    text = to_string(value).strip(_JS_WHITESPACE)
    if text == "":
        return 0.0
    lowered = text.lower()
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if lowered.startswith(prefix):
            try:
                return float(int(text[2:], base))
            except ValueError:
                return math.nan
    if _JS_NUMBER.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    return math.nan
