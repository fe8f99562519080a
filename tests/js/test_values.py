"""``undefined``, ``typeof``, ``ToString`` and ``ToNumber`` on the value model of edgekv.js."""

from __future__ import annotations

import copy
import datetime as dt
import math
import pickle

import pytest

from edgekv.js import JsDict, Undefined, is_array_index, to_number, to_string, typeof, undefined


def test_undefined_is_one_falsy_singleton() -> None:
    assert Undefined() is undefined
    assert copy.copy(undefined) is undefined and copy.deepcopy(undefined) is undefined
    assert pickle.loads(pickle.dumps(undefined)) is undefined
    assert not undefined
    assert repr(undefined) == "undefined"


@pytest.mark.parametrize(("value", "expected"), [
    (undefined, "undefined"),
    (None, "object"),
    (True, "boolean"),
    (0, "number"),
    (2**60, "number"),
    (1.5, "number"),
    (math.nan, "number"),
    ("", "string"),
    ({}, "object"),
    (JsDict(a=1), "object"),
    ([], "object"),
    ((), "object"),
    (b"x", "object"),
    (dt.date(2025, 1, 1), "object"),
    (print, "function"),
    (lambda: 1, "function"),
    (dict, "function"),
])
def test_typeof(value: object, expected: str) -> None:
    assert typeof(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("x", "x"), (None, "null"), (undefined, "undefined"), (True, "true"), (False, "false"),
    (2.0, "2"), (-0.0, "0"), (1e21, "1e+21"), (10**30, "1000000000000000000000000000000"),
    ({"a": 1}, "[object Object]"), ([1, None, undefined, 2.5, [3, 4]], "1,,,2.5,3,4"),
])
def test_to_string(value: object, expected: str) -> None:
    assert to_string(value) == expected


def test_to_number() -> None:
    assert to_number("45") == 45 and to_number(" 0x1f ") == 31 and to_number("") == 0
    assert to_number(None) == 0 and to_number(True) == 1 and to_number("-Infinity") == -math.inf
    assert math.isnan(to_number("abc")) and math.isnan(to_number(undefined))
    assert math.isnan(to_number(b"1")) and to_number(10**400) == math.inf
    assert to_number(-(2**1024) + 1) == -math.inf


def test_array_index() -> None:
    assert is_array_index("0") and is_array_index("4294967294")
    for key in ("", "01", "-1", "1.5", "4294967295", "١"):
        assert not is_array_index(key)
