"""The Web IDL ``int32`` conversion the KV binding applies to numeric options.

The general JavaScript conversions (``ToString``, ``ToNumber``, ``Number::toString``) live
in :mod:`edgekv.js`; this one is the binding's because its range error is Cloudflare's
``TypeError`` text (message 7 of docs/kv-binding.md).
"""

from __future__ import annotations

import math
from typing import Any

from edgekv.errors import KVTypeError
from edgekv.js import to_number

__all__ = ["INT32_RANGE_MESSAGE", "js_to_int32"]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT32_RANGE_MESSAGE = "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."


def js_to_int32(value: Any) -> int:
    """Web IDL conversion to a signed 32-bit int, as workerd's ``jsg`` does it.

    ToNumber; NaN and infinities become 0; a value outside the int32 range raises
    ``KVTypeError`` (Cloudflare's message 7); anything else is truncated toward zero.
    """
    number = to_number(value)
    if math.isnan(number) or math.isinf(number):
        return 0
    if number < INT32_MIN or number > INT32_MAX:
        raise KVTypeError(INT32_RANGE_MESSAGE)
    return int(number)
