"""``JSON.parse`` and ``JSON.stringify`` exactly as V8 runs them on the value model of
:mod:`edgekv.js.values`.

- :func:`parse` accepts what V8 accepts (no ``NaN``/``Infinity``), turns integers beyond
  ``±(2**53 - 1)`` into floats as JS numbers would, and raises ``ValueError`` whose text is
  V8's ``SyntaxError`` message (``Unexpected token 'h', "hello" is not valid JSON``).
- :func:`stringify` is ``JSON.stringify(value, replacer, space)``: compact by default,
  pretty with ``space``; non-ASCII kept, lone surrogates escaped, numbers as V8 prints them
  (``1.0`` -> ``1``, ``-0.0`` -> ``0``, ``1e21`` -> ``1e+21``), NaN and infinities as
  ``null``, integer-like keys first in ascending order (V8's property order), functions and
  ``undefined`` dropped from objects and ``null`` in arrays. A Python ``int`` beyond the
  safe range is a ``BigInt``, which JSON cannot hold: ``TypeError``.

Errors are Python builtins carrying V8's text, so this leaf needs nothing of edgekv; each
layer translates them at its boundary (the KV binding to ``KVSyntaxError`` and friends).
"""

from __future__ import annotations

import json as _json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from edgekv.js.numbers import MAX_SAFE_INTEGER, number_to_string
from edgekv.js.values import is_array_index, to_string, undefined

__all__ = ["int_from_json", "parse", "stringify", "v8_parse_error"]

STACK_OVERFLOW = "Maximum call stack size exceeded"  # V8's RangeError text
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_quote: Callable[[str], str] = _json.encoder.encode_basestring  # type: ignore[attr-defined]
_CONTAINERS = (dict, list, tuple, str)
_SPECIAL_SOURCES = {"undefined", "NaN", "Infinity", "[object Object]"}
_CONTEXT = 10  # V8's kMaxContextCharacters
_WS = " \t\n\r"


# -- JSON.parse --------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def int_from_json(text: str) -> int | float:
    """An integer literal as ``JSON.parse`` reads it: exact within the safe range, else the
    nearest double (``json.JSONDecoder(parse_int=int_from_json)``)."""
    value = int(text)
    return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else float(text)


_DECODER = _json.JSONDecoder(parse_constant=_reject_constant, parse_int=int_from_json)


def parse(text: str | bytes) -> Any:
    """``JSON.parse(text)``. Bytes are decoded as ``json.loads`` would (UTF-8/16/32).

    Raises ``ValueError`` with V8's ``SyntaxError`` message when ``text`` is not JSON.
    """
    if not isinstance(text, str):
        text = bytes(text).decode(_json.detect_encoding(text), "surrogatepass")
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError):
        raise ValueError(v8_parse_error(text)) from None


# -- JSON.stringify ----------------------------------------------------------------------------


def _gap(space: Any) -> str:
    """The indentation unit of ``space``: a number (0-10 spaces) or a string (first 10 chars)."""
    if isinstance(space, bool) or space is None:
        return ""
    if isinstance(space, int | float):
        count = 0 if math.isnan(space) else int(max(0.0, min(10.0, space)))
        return " " * count
    if isinstance(space, str):
        return space[:10]
    return ""


def _property_list(replacer: Sequence[Any]) -> list[str]:
    """A replacer array's keys: its strings and numbers as strings, first occurrence wins."""
    keys: list[str] = []
    for item in replacer:
        if isinstance(item, str) or (isinstance(item, int | float) and not isinstance(item, bool)):
            key = to_string(item)
            if key not in keys:
                keys.append(key)
    return keys


def stringify(
    value: Any,
    replacer: Callable[[str, Any], Any] | Sequence[Any] | None = None,
    space: float | str | None = None,
    *,
    default: Callable[[Any], Any] | None = None,
) -> str | None:
    """``JSON.stringify(value, replacer, space)``; ``None`` when JS returns ``undefined``
    (``value`` is ``undefined`` or a function).

    ``replacer`` is a function called as ``replacer(key, value)`` for every property, or a
    list of the keys to keep. ``default`` converts values outside the value model (as
    ``json.dumps``'s ``default``, at the point where V8 calls ``toJSON``).

    Raises ``TypeError`` (``Do not know how to serialize a BigInt``, or ``... a <type>`` for
    an object with no JSON meaning), ``RecursionError`` with V8's ``RangeError`` text
    ``Maximum call stack size exceeded`` for structures nested too deep (or circular).
    """
    writer = _Writer(
        replacer if callable(replacer) and not isinstance(replacer, list | tuple) else None,
        _property_list(replacer) if isinstance(replacer, list | tuple) else None,
        _gap(space),
        default,
    )
    try:
        top = writer.prepare("", value)
        if top is undefined:
            return None
        writer.write(top, "")
    except RecursionError:  # V8's JSON.stringify has a stack limit too
        raise RecursionError(STACK_OVERFLOW) from None
    return "".join(writer.out)


def _string(text: str) -> str:
    quoted = _quote(text)
    if _LONE_SURROGATE.search(quoted):  # well-formed JSON.stringify escapes lone surrogates
        quoted = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)
    return quoted


def _ordered(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """V8's own-property order: array-index keys ascending, then the rest as inserted."""
    if not any(key[:1].isdigit() and is_array_index(key) for key, _ in pairs):
        return pairs
    indices = sorted((p for p in pairs if is_array_index(p[0])), key=lambda p: int(p[0]))
    return indices + [p for p in pairs if not is_array_index(p[0])]


class _Writer:
    """One ``stringify`` call: its options and the output pieces."""

    __slots__ = ("default", "gap", "keys", "out", "replacer")

    def __init__(self, replacer: Callable[[str, Any], Any] | None, keys: list[str] | None,
                 gap: str, default: Callable[[Any], Any] | None) -> None:
        self.replacer, self.keys, self.gap, self.default = replacer, keys, gap, default
        self.out: list[str] = []

    def prepare(self, key: str, value: Any) -> Any:
        """The value after ``toJSON`` (``default``) and the replacer; ``undefined`` if it is
        one JSON omits."""
        if self.default is not None and not _native(value):
            value = self.default(value)
        if self.replacer is not None:
            value = self.replacer(key, value)
        if value is undefined or (callable(value) and not isinstance(value, _CONTAINERS)):
            return undefined
        return value

    def write(self, value: Any, indent: str) -> None:
        out = self.out
        if value is None:
            out.append("null")
        elif value is True:
            out.append("true")
        elif value is False:
            out.append("false")
        elif isinstance(value, str):
            out.append(_string(value))
        elif isinstance(value, int):
            if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                raise TypeError("Do not know how to serialize a BigInt")
            out.append(str(value))
        elif isinstance(value, float):
            out.append("null" if math.isnan(value) or math.isinf(value) else number_to_string(value))
        elif isinstance(value, dict):
            self.write_object(value, indent)
        elif isinstance(value, list | tuple):
            self.write_array(value, indent)
        else:
            raise TypeError(f"Do not know how to serialize a {type(value).__name__}")

    def write_object(self, obj: dict[Any, Any], indent: str) -> None:
        pairs = [(k if isinstance(k, str) else to_string(k), v) for k, v in obj.items()]
        if self.keys is not None:
            by_key = dict(pairs)
            pairs = [(k, by_key[k]) for k in self.keys if k in by_key]
        else:
            pairs = _ordered(pairs)
        out, inner = self.out, indent + self.gap
        separator = ("," + "\n" + inner) if self.gap else ","
        colon = ": " if self.gap else ":"
        start = len(out)
        out.append("{")
        first = True
        for key, item in pairs:
            item = self.prepare(key, item)
            if item is undefined:
                continue  # JS drops properties whose value stringifies to undefined
            out.append(("\n" + inner) if first and self.gap else "" if first else separator)
            first = False
            out.append(_string(key))
            out.append(colon)
            self.write(item, inner)
        if first:
            del out[start:]
            out.append("{}")
        else:
            out.append(("\n" + indent + "}") if self.gap else "}")

    def write_array(self, items: Sequence[Any], indent: str) -> None:
        out = self.out
        if not items:
            out.append("[]")
            return
        inner = indent + self.gap
        separator = ("," + "\n" + inner) if self.gap else ","
        out.append(("[\n" + inner) if self.gap else "[")
        for i, item in enumerate(items):
            if i:
                out.append(separator)
            item = self.prepare(str(i), item)
            if item is undefined:
                out.append("null")
            else:
                self.write(item, inner)
        out.append(("\n" + indent + "]") if self.gap else "]")


def _native(value: Any) -> bool:
    return value is None or value is undefined or isinstance(
        value, str | int | float | dict | list | tuple) or callable(value)


# -- V8's error messages ---------------------------------------------------------------------


class _Fail(Exception):
    def __init__(self, kind: str, pos: int) -> None:
        self.kind, self.pos = kind, pos


def v8_parse_error(text: str) -> str:
    """The message V8's ``JSON.parse`` gives for ``text``, which must not be valid JSON."""
    if text in _SPECIAL_SOURCES:
        return f'"{text}" is not valid JSON'
    try:
        _Scanner(text).document()
    except _Fail as fail:
        return _format(text, fail.kind, fail.pos)
    return "Unexpected end of JSON input"  # unreachable for invalid input


_POSITIONED = {
    "number": "Unexpected number in JSON",
    "after": "Unexpected non-whitespace character after JSON",
    "control": "Bad control character in string literal in JSON",
    "escape": "Bad escaped character in JSON",
    "unicode": "Bad Unicode escape in JSON",
    "unterminated": "Unterminated string in JSON",
    "minus": "No number after minus sign in JSON",
    "fraction": "Unterminated fractional number in JSON",
    "exponent": "Exponent part is missing a number in JSON",
    "name_or_brace": "Expected property name or '}' in JSON",
    "quoted_name": "Expected double-quoted property name in JSON",
    "colon": "Expected ':' after property name in JSON",
    "comma_brace": "Expected ',' or '}' after property value in JSON",
    "comma_bracket": "Expected ',' or ']' after array element in JSON",
}


def _format(text: str, kind: str, pos: int) -> str:
    if kind == "eos":
        return "Unexpected end of JSON input"
    if kind == "token":
        token = text[pos]
        if len(text) < 2 * _CONTEXT + 1:
            return f"Unexpected token '{token}', \"{text}\" is not valid JSON"
        if pos < _CONTEXT:
            return f"Unexpected token '{token}', \"{text[: pos + _CONTEXT]}\"... is not valid JSON"
        if pos < len(text) - _CONTEXT:
            snippet = text[pos - _CONTEXT : pos + _CONTEXT]
            return f"Unexpected token '{token}', ...\"{snippet}\"... is not valid JSON"
        return f"Unexpected token '{token}', ...\"{text[pos - _CONTEXT :]}\" is not valid JSON"
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"{_POSITIONED[kind]} at position {pos} (line {line} column {column})"


class _Scanner:
    """A validating JSON scanner that stops at the first error, where V8 would."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def ws(self) -> None:
        s, i = self.s, self.i
        while i < len(s) and s[i] in _WS:
            i += 1
        self.i = i

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def document(self) -> None:
        self.ws()
        self.value()
        self.ws()
        if self.i < len(self.s):
            raise _Fail("after", self.i)

    def value(self) -> None:
        c = self.peek()
        if c == "":
            raise _Fail("eos", self.i)
        if c == "{":
            self.obj()
        elif c == "[":
            self.arr()
        elif c == '"':
            self.string()
        elif c == "-" or c.isdigit():
            self.number()
        elif c in "tfn":
            self.literal({"t": "true", "f": "false", "n": "null"}[c])
        else:
            raise _Fail("token", self.i)

    def literal(self, word: str) -> None:
        for expected in word:
            c = self.peek()
            if c == "":
                raise _Fail("eos", self.i)
            if c != expected:
                raise _Fail("token", self.i)
            self.i += 1

    def digits(self) -> int:
        start = self.i
        while self.peek().isdigit() and self.peek() in "0123456789":
            self.i += 1
        return self.i - start

    def number(self) -> None:
        if self.peek() == "-":
            self.i += 1
            if not self.peek() or self.peek() not in "0123456789":
                raise _Fail("minus", self.i)
        if self.peek() == "0":
            self.i += 1
            if self.peek() and self.peek() in "0123456789":
                raise _Fail("number", self.i)
        else:
            self.digits()
        if self.peek() == ".":
            self.i += 1
            if not self.digits():
                raise _Fail("fraction", self.i)
        if self.peek() in ("e", "E"):
            self.i += 1
            if self.peek() in ("+", "-"):
                self.i += 1
            if not self.digits():
                raise _Fail("exponent", self.i)

    def string(self) -> None:
        s = self.s
        self.i += 1
        while True:
            if self.i >= len(s):
                raise _Fail("unterminated", self.i)
            c = s[self.i]
            if c == '"':
                self.i += 1
                return
            if c < " ":
                raise _Fail("control", self.i)
            if c == "\\":
                self.i += 1
                if self.i >= len(s):
                    raise _Fail("eos", self.i)
                esc = s[self.i]
                if esc == "u":
                    for _ in range(4):
                        self.i += 1
                        if self.i >= len(s) or s[self.i] not in "0123456789abcdefABCDEF":
                            raise _Fail("unicode", self.i)
                elif esc not in '"\\/bfnrt':
                    raise _Fail("escape", self.i)
            self.i += 1

    def obj(self) -> None:
        self.i += 1
        self.ws()
        if self.peek() == "}":
            self.i += 1
            return
        if self.peek() != '"':
            raise _Fail("name_or_brace", self.i)
        while True:
            self.string()
            self.ws()
            if self.peek() != ":":
                raise _Fail("colon", self.i)
            self.i += 1
            self.ws()
            self.value()
            self.ws()
            c = self.peek()
            if c == "}":
                self.i += 1
                return
            if c != ",":
                raise _Fail("comma_brace", self.i)
            self.i += 1
            self.ws()
            if self.peek() != '"':
                raise _Fail("quoted_name", self.i)

    def arr(self) -> None:
        self.i += 1
        self.ws()
        if self.peek() == "]":
            self.i += 1
            return
        while True:
            self.ws()
            self.value()
            self.ws()
            c = self.peek()
            if c == "]":
                self.i += 1
                return
            if c != ",":
                raise _Fail("comma_bracket", self.i)
            self.i += 1
