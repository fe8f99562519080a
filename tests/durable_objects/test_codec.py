"""The storage codec round-trips every supported type and never executes stored data."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import pickle
import uuid
from typing import Any

import pytest

from edgekv.durable_objects import DataCloneError, StoredValueError
from edgekv.durable_objects.codec import clone, decode, encode

VALUES: list[Any] = [
    None, True, False, 0, -7, 2**100, -(2**70), 1.5, -0.0, 1.0, "", "héllo ✓ \x00", b"", b"\x00\xff",
    [], [1, [2, [3]]], (), (1, "a", (2,)), {}, {"a": 1, "b": [1, 2]}, {"$": "not a tag"},
    {1: "int key", (1, 2): "tuple key", None: 0, "s": 1}, {1, 2, 3}, frozenset({"a"}), set(),
    dt.datetime(2024, 5, 1, 12, 30, 5, 123456), dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 5, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.date(1999, 12, 31), dt.time(23, 59, 1), dt.timedelta(days=-1, seconds=5, microseconds=7),
    decimal.Decimal("3.14159265358979323846"), uuid.UUID(int=12345),
    {"nested": {"deep": [{"x": (b"bytes", {1.25})}, dt.date(2020, 1, 1)]}},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_round_trip(value: Any) -> None:
    back = decode(encode(value))
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


def test_non_finite_floats() -> None:
    assert decode(encode(float("inf"))) == float("inf")
    assert decode(encode(float("-inf"))) == float("-inf")
    assert math.isnan(decode(encode(float("nan"))))


def test_byte_like_values_come_back_as_bytes() -> None:
    assert decode(encode(bytearray(b"ab"))) == b"ab"
    assert decode(encode(memoryview(b"cd"))) == b"cd"


def test_int_and_float_stay_distinct() -> None:
    assert type(decode(encode(1))) is int
    assert type(decode(encode(1.0))) is float


def test_decoded_values_are_fresh_copies() -> None:
    original = {"list": [1, 2]}
    data = encode(original)
    first, second = decode(data), decode(data)
    first["list"].append(3)
    assert second == original


class Custom:
    pass


@pytest.mark.parametrize("value", [Custom(), object(), lambda: 1, {"k": Custom()}, [print]])
def test_unsupported_types_raise_data_clone_error(value: Any) -> None:
    with pytest.raises(DataCloneError, match="could not be cloned"):
        encode(value)
    with pytest.raises(TypeError):
        clone(value)


def test_cycles_are_rejected() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(DataCloneError):
        encode(cyclic)
    with pytest.raises(DataCloneError):
        clone(cyclic)
    shared = [1]
    assert decode(encode([shared, shared])) == [[1], [1]]  # shared, not cyclic: fine


def test_clone_is_deep() -> None:
    value = {"a": [1, {"b": {2}}], "t": ([1],)}
    copied = clone(value)
    assert copied == value
    copied["a"][1]["b"].add(3)
    copied["t"][0].append(2)
    assert value == {"a": [1, {"b": {2}}], "t": ([1],)}


class Boom:
    executed = False

    def __reduce__(self) -> Any:
        return (Boom._explode, ())

    @staticmethod
    def _explode() -> None:
        Boom.executed = True


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(Boom()),
        b'{"$":"__import__","v":"os"}',
        b'{"$":"os.system","v":"touch /tmp/edgekv-pwned"}',
        b'{"$":"t","v":"not a list"}',
        b'{"$":"b","v":"!!!not base64"}',
        b'{"$":"t","v":[],"extra":1}',
        b'{"$":"f","v":"1e400"}',
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_malicious_payload_cannot_execute(payload: bytes) -> None:
    with pytest.raises(StoredValueError):
        decode(payload)
    assert Boom.executed is False
    # pickle itself would have run the payload: the codec is the safety, not the data
    if payload.startswith(b"\x80"):
        pickle.loads(payload)
        assert Boom.executed is True
        Boom.executed = False
