"""``JSON.parse`` / ``JSON.stringify`` as the KV binding raises them.

The JSON itself is :mod:`edgekv.js.json` (V8-exact); this module only translates its
builtin errors into the binding's classes, keeping V8's text: a ``SyntaxError`` becomes
``KVSyntaxError``, a ``TypeError`` (``Do not know how to serialize a BigInt``)
``KVTypeError``, and the stack ``RangeError`` ``KVRangeError``.
"""

from __future__ import annotations

from typing import Any

from edgekv import js
from edgekv.errors import KVRangeError, KVSyntaxError, KVTypeError

__all__ = ["parse", "stringify"]


def parse(text: str) -> Any:
    """``JSON.parse(text)``. Raises ``KVSyntaxError`` with V8's message."""
    try:
        return js.parse(text)
    except ValueError as exc:
        raise KVSyntaxError(str(exc)) from None


def stringify(value: Any) -> str | None:
    """Compact ``JSON.stringify(value)``; ``None`` when JS would return ``undefined``.

    Raises ``KVTypeError`` for values JS cannot serialise (``Do not know how to serialize
    a BigInt``) and ``KVRangeError`` (``Maximum call stack size exceeded``) for nesting
    deeper than the stack.
    """
    try:
        return js.stringify(value)
    except TypeError as exc:
        raise KVTypeError(str(exc)) from None
    except RecursionError as exc:
        raise KVRangeError(str(exc)) from None
