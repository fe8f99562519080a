"""JSON exactly as JavaScript's ``JSON.parse`` / ``JSON.stringify`` see it.

- ``parse`` accepts what V8 accepts (no NaN/Infinity), turns integers beyond 2**53 into
  floats as JS numbers would, and raises ``KVSyntaxError`` with V8's message text when the
  input is not JSON (e.g. ``Unexpected token 'h', "hello" is not valid JSON``).
- ``stringify`` is compact ``JSON.stringify``: no spaces, non-ASCII left as is, ``1.0``
  written ``1``, NaN and infinities written ``null``; Python ints outside the safe-integer
  range cross into JS as BigInt, which JSON cannot serialise.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from edgekv.errors import KVRangeError, KVSyntaxError, KVTypeError
from edgekv.kv.jsvalues import js_number_to_string

__all__ = ["parse", "stringify", "v8_parse_error"]

_MAX_SAFE_INTEGER = 2**53 - 1
_SPECIAL_SOURCES = {"undefined", "NaN", "Infinity", "[object Object]"}
_CONTEXT = 10  # V8's kMaxContextCharacters
_WS = " \t\n\r"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _parse_int(text: str) -> int | float:
    value = int(text)
    return value if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else float(text)


def parse(text: str) -> Any:
    """``JSON.parse(text)``. Raises ``KVSyntaxError`` with V8's message."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except (ValueError, RecursionError):
        raise KVSyntaxError(v8_parse_error(text)) from None


def stringify(value: Any) -> str | None:
    """Compact ``JSON.stringify(value)``; ``None`` when JS would return ``undefined``.

    Raises ``KVTypeError`` for values JS cannot serialise (``Do not know how to serialize
    a BigInt``) and for Python objects with no JSON meaning.
    """
    if callable(value) and not isinstance(value, (dict, list, tuple, str)):
        return None
    parts: list[str] = []
    try:
        _write(value, parts)
    except RecursionError:  # V8's JSON.stringify has a stack limit too
        raise KVRangeError("Maximum call stack size exceeded") from None
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        if _LONE_SURROGATE.search(text):  # JSON.stringify escapes lone surrogates
            text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        out.append(text)
    elif isinstance(value, int):
        if not -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
            raise KVTypeError("Do not know how to serialize a BigInt")
        out.append(str(value))
    elif isinstance(value, float):
        out.append("null" if math.isnan(value) or math.isinf(value) else js_number_to_string(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if callable(item) and not isinstance(item, (dict, list, tuple, str)):
                continue  # JS drops properties whose value stringifies to undefined
            if not first:
                out.append(",")
            first = False
            _write(key if isinstance(key, str) else _key_string(key), out)
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            if callable(item) and not isinstance(item, (dict, list, tuple, str)):
                out.append("null")
            else:
                _write(item, out)
        out.append("]")
    else:
        raise KVTypeError(f"Do not know how to serialize a {type(value).__name__}")


def _key_string(key: Any) -> str:
    from edgekv.kv.jsvalues import js_to_string

    return js_to_string(key)


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
