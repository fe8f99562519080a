"""``prefix_upper_bound``: the exclusive upper bound of a prefix range (storage/base.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgekv.storage import prefix_upper_bound

MAX = "\U0010ffff"

# Keys as the engine stores them: any code point except the surrogates (not encodable).
storable_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [
        ("a", "b"),
        ("ab", "ac"),
        ("a/", "a0"),
        ("\u0000", "\u0001"),
        ("\u007f", "\u0080"),  # the 1-byte/2-byte UTF-8 boundary
        ("\u07ff", "\u0800"),  # 2-byte/3-byte
        ("\uffff", "\U00010000"),  # 3-byte/4-byte
        ("\ud7ff", "\ue000"),  # the next code point is a surrogate: skip the block
        ("x\ud7ff", "x\ue000"),
        ("a" + MAX, "b"),  # a trailing U+10FFFF carries into the previous character
        ("a" + MAX + MAX, "b"),
        ("\ud7ff" + MAX, "\ue000"),
        (MAX, None),  # nothing is greater than every string starting with U+10FFFF
        (MAX * 3, None),
    ],
)
def test_prefix_upper_bound(prefix: str, bound: str | None) -> None:
    assert prefix_upper_bound(prefix) == bound


def test_empty_prefix_has_no_bound() -> None:
    assert prefix_upper_bound("") is None


@given(prefix=storable_text.filter(bool), suffix=storable_text)
def test_bound_is_above_every_extension(prefix: str, suffix: str) -> None:
    bound = prefix_upper_bound(prefix)
    key = prefix + suffix
    if bound is None:
        assert set(prefix) == {MAX}
    else:
        assert key < bound
        assert key.encode("utf-8") < bound.encode("utf-8")  # byte order agrees
        assert bound.encode("utf-8")  # the bound itself is storable (no surrogates)


@given(prefix=storable_text.filter(bool), other=storable_text)
def test_bound_is_tight(prefix: str, other: str) -> None:
    """Every string in [prefix, bound) starts with prefix: the bound is the smallest one."""
    bound = prefix_upper_bound(prefix)
    if prefix <= other and (bound is None or other < bound):
        assert other.startswith(prefix)
