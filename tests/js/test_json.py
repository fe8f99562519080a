"""``JSON.stringify`` and ``JSON.parse`` as V8 runs them.

Expected strings were printed by V8 (``node -e 'console.log(JSON.stringify(...))'``, Node 20);
parse messages carry the ``(line L column C)`` tail that current V8 (workerd) adds and that the
KV conformance suite checks against the Miniflare peer.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from edgekv.js import JSON, parse, stringify, undefined, v8_parse_error


def test_numbers_in_json() -> None:
    value = [1.0, math.nan, 1e21, -0.0, 0.1 + 0.2, math.inf, -math.inf]
    assert stringify(value) == "[1,null,1e+21,0,0.30000000000000004,null,null]"


def test_strings_escape_as_v8() -> None:
    text = "a\u2028b\x00\x1f\x7f\"\\/é😀\ud800x\udfff"
    assert stringify({"s": text}) == (
        '{"s":"a\u2028b\\u0000\\u001f\x7f\\"\\\\/é😀\\ud800x\\udfff"}'
    )


def test_pretty_with_number_space() -> None:
    assert stringify([[], {}, [1, [2, {"a": []}]]], None, 2) == (
        "[\n  [],\n  {},\n  [\n    1,\n    [\n      2,\n      {\n        \"a\": []\n"
        "      }\n    ]\n  ]\n]"
    )


def test_space_forms() -> None:
    assert stringify({"a": 1, "b": [1, 2]}, None, "\t") == (
        '{\n\t"a": 1,\n\t"b": [\n\t\t1,\n\t\t2\n\t]\n}'
    )
    assert stringify({"a": 1}, None, 20) == '{\n          "a": 1\n}'  # at most 10
    assert stringify({"a": 1}, None, "abcdefghijklmnop") == '{\nabcdefghij"a": 1\n}'
    assert stringify({"a": [1]}, None, 0) == '{"a":[1]}'
    assert stringify({"a": 1}, None, True) == '{"a":1}'  # a boolean space is ignored


def test_replacer_array_keeps_listed_keys_in_its_order() -> None:
    value = {"a": 1, "b": 2, "c": {"a": 3, "b": 4}}
    assert stringify(value, ["b", 1, "a", "b"]) == '{"b":2,"a":1}'


def test_replacer_function_sees_every_key() -> None:
    seen: list[str] = []

    def replacer(key: str, value: Any) -> Any:
        seen.append(key)
        return value * 10 if type(value) is int else value

    assert stringify({"a": 1, "b": [2]}, replacer) == '{"a":10,"b":[20]}'
    assert seen == ["", "a", "b", "0"]


def test_integer_keys_come_first_ascending() -> None:
    value = {"2": 1, "10": 2, "1": 3, "x": 4, "-1": 5, "1.5": 6}
    assert stringify(value) == '{"1":3,"2":1,"10":2,"x":4,"-1":5,"1.5":6}'


def test_undefined_and_functions() -> None:
    value = {"f": print, "u": undefined, "n": None, "a": [undefined, print]}
    assert stringify(value) == '{"n":null,"a":[null,null]}'
    assert stringify(undefined) is None and stringify(print) is None


def test_non_string_keys_print_as_js_property_names() -> None:
    assert stringify({2.0: 1, None: 2, False: 3}) == '{"2":1,"null":2,"false":3}'


def test_bigint_and_unknown_types_raise_v8_type_errors() -> None:
    with pytest.raises(TypeError, match="^Do not know how to serialize a BigInt$"):
        stringify({"n": 2**53})
    with pytest.raises(TypeError, match="^Do not know how to serialize a set$"):
        stringify({1})


def test_default_converts_foreign_objects() -> None:
    class Box:
        def __init__(self, v: Any) -> None:
            self.v = v

    assert stringify([Box(1.0)], default=lambda box: box.v) == "[1]"


def test_too_deep_is_v8s_range_error() -> None:
    value: list[Any] = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(RecursionError, match="^Maximum call stack size exceeded$"):
        stringify(value)


def test_json_namespace_reads_like_javascript() -> None:
    assert JSON.stringify({"a": [1.0]}, None, 1) == '{\n "a": [\n  1\n ]\n}'
    assert JSON.parse('{"a": [1]}') == {"a": [1]}


def test_parse_numbers_as_js() -> None:
    assert parse("12345678901234567890") == 12345678901234567890.0
    assert type(parse("9007199254740991")) is int
    assert parse(b'{"a":"\xc3\xa9"}') == {"a": "é"}


@pytest.mark.parametrize(("text", "message"), [
    ("hello", "Unexpected token 'h', \"hello\" is not valid JSON"),
    ("", "Unexpected end of JSON input"),
    ('{"a":1,}', "Expected double-quoted property name in JSON at position 7 (line 1 column 8)"),
    ("[1,]", "Unexpected token ']', \"[1,]\" is not valid JSON"),
    ("NaN", '"NaN" is not valid JSON'),
    ("-Infinity", "No number after minus sign in JSON at position 1 (line 1 column 2)"),
    ("1 2", "Unexpected non-whitespace character after JSON at position 2 (line 1 column 3)"),
    ('{"a" 1}', "Expected ':' after property name in JSON at position 5 (line 1 column 6)"),
    ('"abc', "Unterminated string in JSON at position 4 (line 1 column 5)"),
    ("01", "Unexpected number in JSON at position 1 (line 1 column 2)"),
    ("1.", "Unterminated fractional number in JSON at position 2 (line 1 column 3)"),
    ("1e", "Exponent part is missing a number in JSON at position 2 (line 1 column 3)"),
    ("[1 2]", "Expected ',' or ']' after array element in JSON at position 3 (line 1 column 4)"),
    ("tru", "Unexpected end of JSON input"),
    ("undefined", '"undefined" is not valid JSON'),
    ('{"this is a long text": truex}',
     "Expected ',' or '}' after property value in JSON at position 28 (line 1 column 29)"),
])
def test_parse_errors_carry_v8s_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse(text)
    assert str(caught.value) == message == v8_parse_error(text)
