"""JavaScript numbers as V8 prints them (``Number.prototype.toString``) and JS's safe range.

Python ``float`` is a JS number. A Python ``int`` is a JS number while it lies within
``±MAX_SAFE_INTEGER``; beyond that it crosses into JavaScript as a ``BigInt`` (Pyodide's
rule), whose ``toString()`` is its decimal digits.
"""

from __future__ import annotations

import math
from decimal import Decimal

__all__ = ["MAX_SAFE_INTEGER", "int_to_decimal", "is_safe_integer", "number_to_string"]

MAX_SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER


def is_safe_integer(value: int) -> bool:
    """True when ``value`` is a JS number rather than a ``BigInt`` (``|value| <= 2**53 - 1``)."""
    return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER


def number_to_string(x: float) -> str:
    """ECMAScript ``Number::toString`` for a double, exactly as V8 prints it.

    ``1.0`` -> ``"1"``, ``-0.0`` -> ``"0"``, ``1e21`` -> ``"1e+21"``, ``1e20`` ->
    ``"100000000000000000000"``, ``1e-7`` -> ``"1e-7"``, NaN -> ``"NaN"``, infinities ->
    ``"Infinity"`` / ``"-Infinity"``. Digits are the shortest that round-trip (as V8's).
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest round-tripping digits; lay them out again by the JS rules
    # (ECMA-262 Number::toString steps 5-12): value = 0.digits * 10**n.
    parts = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, parts.digits))
    k = len(digits)
    n = k + int(parts.exponent)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exponent = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + (digits if k == 1 else digits[0] + "." + digits[1:]) + exponent


_DIGITS_PER_PIECE = 4000  # below Python's 4300-digit int <-> str limit
_PIECE = 10**_DIGITS_PER_PIECE


def int_to_decimal(value: int) -> str:
    """``str(value)`` for any size (a BigInt's ``toString()``), past Python's 4300-digit limit
    (which would raise ``ValueError``), without changing that global limit."""
    if -_PIECE < value < _PIECE:
        return str(value)
    sign, value = ("-", -value) if value < 0 else ("", value)
    pieces: list[str] = []
    while value:
        value, low = divmod(value, _PIECE)
        pieces.append(str(low).zfill(_DIGITS_PER_PIECE) if value else str(low))
    return sign + "".join(reversed(pieces))
