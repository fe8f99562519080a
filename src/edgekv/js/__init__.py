"""JavaScript semantics for Python values: one definition of each, for every layer.

A leaf: it imports nothing else of edgekv, and everything that speaks JavaScript imports it.

- :data:`undefined` (the one "not given / absent" sentinel) and :func:`typeof`
  (:mod:`edgekv.js.values`, which also states the value model: ``None`` is ``null``, ...);
- ``ToString``, ``ToNumber`` and array indices (:mod:`edgekv.js.values`);
- V8's ``Number.prototype.toString`` and the safe-integer range (:mod:`edgekv.js.numbers`);
- V8-exact ``JSON.parse`` / ``JSON.stringify`` (:mod:`edgekv.js.json`), also as the
  ``JSON`` namespace so callers read like JavaScript: ``JSON.stringify(value, None, 2)``;
- :class:`JsDict`, the dict-with-attributes every path hands to Worker code.
"""

from __future__ import annotations

from edgekv.js.jsdict import JsDict
from edgekv.js.json import int_from_json, parse, stringify, v8_parse_error
from edgekv.js.numbers import MAX_SAFE_INTEGER, int_to_decimal, is_safe_integer, number_to_string
from edgekv.js.values import Undefined, is_array_index, to_number, to_string, typeof, undefined

__all__ = [
    "JSON",
    "MAX_SAFE_INTEGER",
    "JsDict",
    "Undefined",
    "int_from_json",
    "int_to_decimal",
    "is_array_index",
    "is_safe_integer",
    "number_to_string",
    "parse",
    "stringify",
    "to_number",
    "to_string",
    "typeof",
    "undefined",
    "v8_parse_error",
]


class JSON:
    """JavaScript's ``JSON`` object: ``JSON.parse(text)``, ``JSON.stringify(value, replacer,
    space)``. The same functions as :func:`parse` and :func:`stringify`."""

    parse = staticmethod(parse)
    stringify = staticmethod(stringify)
