"""Ids follow workerd's scheme: deterministic, MAC-checked, namespace-bound."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from edgekv.durable_objects import DurableObjectError, DurableObjectId, DurableObjectTypeError
from edgekv.durable_objects.ids import IdFactory


def test_id_from_name_matches_workerd_construction() -> None:
    key = hashlib.sha256(b"todo-Counter").digest()
    base = hmac.new(key, b"alice", hashlib.sha256).digest()[:16]
    expected = (base + hmac.new(key, base, hashlib.sha256).digest()[:16]).hex()
    made = IdFactory("todo-Counter").from_name("alice")
    assert made.toString() == expected == str(made)
    assert made.name == "alice"
    assert len(expected) == 64


def test_named_ids_are_deterministic_and_namespace_specific() -> None:
    a, b = IdFactory("w-A"), IdFactory("w-B")
    assert a.from_name("x") == a.from_name("x")
    assert a.from_name("x").equals(IdFactory("w-A").from_name("x"))
    assert a.from_name("x") != a.from_name("y")
    assert a.from_name("x") != b.from_name("x")
    assert len({a.from_name("x"), a.from_name("x"), a.from_name("y")}) == 2


def test_unique_ids_are_random_and_valid() -> None:
    f = IdFactory("w-A")
    one, two = f.new_unique(), f.new_unique()
    assert one != two and one.name is None
    assert f.from_string(one.toString()) == one


def test_id_from_string_round_trip_has_no_name() -> None:
    f = IdFactory("w-A")
    named = f.from_name("bob")
    parsed = f.from_string(named.toString())
    assert parsed == named and parsed.name is None
    assert f.from_string(named.toString().upper()) == named  # hex digits in either case


@pytest.mark.parametrize("text", ["", "abc", "0" * 63, "0" * 65, "g" * 64, " " + "0" * 63])
def test_id_from_string_rejects_non_hex(text: str) -> None:
    with pytest.raises(DurableObjectTypeError) as info:
        IdFactory("w-A").from_string(text)
    assert str(info.value) == "Invalid Durable Object ID: must be 64 hex digits"


def test_id_from_string_rejects_other_namespace_and_bad_mac() -> None:
    foreign = IdFactory("w-B").from_name("x").toString()
    for text in (foreign, "0" * 64, IdFactory("w-A").from_name("x").toString()[:-1] + "0"):
        if text == IdFactory("w-A").from_name("x").toString():
            continue
        with pytest.raises(DurableObjectTypeError) as info:
            IdFactory("w-A").from_string(text)
        assert str(info.value) == "Durable Object ID is not valid for this namespace."
        assert isinstance(info.value, TypeError)


def test_jurisdiction_is_not_implemented() -> None:
    with pytest.raises(DurableObjectError) as info:
        IdFactory("w-A").new_unique("eu")
    assert str(info.value) == "Jurisdiction restrictions are not implemented in workerd."


def test_ids_are_immutable() -> None:
    made = DurableObjectId("0" * 64, "n")
    with pytest.raises(AttributeError):
        made._hex = "1" * 64  # type: ignore[misc]
