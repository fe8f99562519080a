"""JavaScript value conversions, as the KV binding applies them to Python arguments.

The binding is specified in JavaScript terms (Web IDL conversions in workerd's ``jsg``).
These functions give Python values the same treatment, with Python ``None`` standing for
JS ``null`` (that is what Cloudflare's Python SDK sends for ``None``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from edgekv.errors import KVTypeError

__all__ = ["INT32_RANGE_MESSAGE", "int_to_decimal", "js_number_to_string", "js_to_int32", "js_to_number", "js_to_string"]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT32_RANGE_MESSAGE = "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."

_JS_NUMBER = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_JS_WHITESPACE = " \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def js_number_to_string(x: float) -> str:
    """ECMAScript ``Number::toString`` for a double (``1.0`` -> ``"1"``, ``1e21`` -> ``"1e+21"``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest round-tripping digits; re-lay them out by the JS rules.
    parts = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, parts.digits))
    exponent = len(digits) + int(parts.exponent)
    k, n = len(digits), exponent  # value = 0.digits * 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + (digits if k == 1 else digits[0] + "." + digits[1:]) + exp


_DIGITS_PER_PIECE = 4000  # below Python's 4300-digit int <-> str limit
_PIECE = 10**_DIGITS_PER_PIECE


def int_to_decimal(value: int) -> str:
    """``str(value)`` for any size (a BigInt's ``toString()``), past Python's 4300-digit limit
    (which would raise ``ValueError``), without changing that global limit."""
    if -_PIECE < value < _PIECE:
        return str(value)
    sign, value = ("-", -value) if value < 0 else ("", value)
    base = _PIECE
    pieces: list[str] = []
    while value:
        value, low = divmod(value, base)
        pieces.append(str(low).zfill(_DIGITS_PER_PIECE) if value else str(low))
    return sign + "".join(reversed(pieces))


def js_to_string(value: Any) -> str:
    """JS ``ToString``: ``None`` -> ``"null"``, ``True`` -> ``"true"``, ``2.0`` -> ``"2"``."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int_to_decimal(value)
    if isinstance(value, float):
        return js_number_to_string(value)
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else js_to_string(v) for v in value)
    return str(value)


def js_to_number(value: Any) -> float:
    """JS ``ToNumber`` (``"45"`` -> 45, ``"abc"`` -> NaN, ``None`` -> 0, ``True`` -> 1)."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        return float(value) if abs(value) < 2**1024 else math.copysign(math.inf, value)
    if isinstance(value, float):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return math.nan
    text = js_to_string(value).strip(_JS_WHITESPACE)
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


def js_to_int32(value: Any) -> int:
    """Web IDL conversion to a signed 32-bit int, as workerd's ``jsg`` does it.

    ToNumber; NaN and infinities become 0; a value outside the int32 range raises
    ``KVTypeError`` (Cloudflare's message 7); anything else is truncated toward zero.
    """
    number = js_to_number(value)
    if math.isnan(number) or math.isinf(number):
        return 0
    if number < INT32_MIN or number > INT32_MAX:
        raise KVTypeError(INT32_RANGE_MESSAGE)
    return int(number)
