"""``Number.prototype.toString`` as V8 prints it.

Every expected string was printed by V8 (``node -e 'console.log(String(x))'``, Node 20).
"""

from __future__ import annotations

import math

import pytest

from edgekv.js import MAX_SAFE_INTEGER, int_to_decimal, is_safe_integer, number_to_string

V8_STRINGS = [
    (1.0, "1"),
    (-0.0, "0"),
    (0.0, "0"),
    (1e21, "1e+21"),
    (1e20, "100000000000000000000"),
    (123456789012345680000.0, "123456789012345680000"),
    (1e-6, "0.000001"),
    (1e-7, "1e-7"),
    (0.000001234, "0.000001234"),
    (1.5e-7, "1.5e-7"),
    (0.1 + 0.2, "0.30000000000000004"),
    (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (2.0**53, "9007199254740992"),
    (2.0**53 + 2, "9007199254740994"),
    (-1.5, "-1.5"),
    (100.0, "100"),
    (1e16, "10000000000000000"),
    (12345.678, "12345.678"),
    (0.5, "0.5"),
    (-1e-7, "-1e-7"),
    (1e300, "1e+300"),
    (4.35, "4.35"),
    (0.1, "0.1"),
    (math.nan, "NaN"),
    (math.inf, "Infinity"),
    (-math.inf, "-Infinity"),
]


@pytest.mark.parametrize(("value", "expected"), V8_STRINGS, ids=[e for _, e in V8_STRINGS])
def test_number_to_string_is_v8s(value: float, expected: str) -> None:
    assert number_to_string(value) == expected


def test_safe_integer_range() -> None:
    assert MAX_SAFE_INTEGER == 9007199254740991
    assert is_safe_integer(MAX_SAFE_INTEGER) and is_safe_integer(-MAX_SAFE_INTEGER)
    assert not is_safe_integer(MAX_SAFE_INTEGER + 1)
    assert not is_safe_integer(-MAX_SAFE_INTEGER - 1)


def test_int_to_decimal_passes_pythons_digit_limit() -> None:
    big = 7 * 10**5000 + 3
    text = int_to_decimal(big)
    assert len(text) == 5001 and text[0] == "7" and text[-1] == "3" and set(text[1:-1]) == {"0"}
    assert int_to_decimal(-big) == "-" + text
    assert int_to_decimal(-42) == "-42"
