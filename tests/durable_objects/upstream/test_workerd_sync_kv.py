"""workerd ``src/workerd/api/tests/sync-kv-test.js``, translated (``ctx.storage.kv``)."""

from __future__ import annotations

from typing import Any

import pytest

from edgekv.durable_objects import DurableObjectError

INVALIDATED = (
    "kv.list() iterator was invalidated because a new call to kv.list() was started. "
    "Only one kv.list() iterator can exist at a time."
)


async def test_sync_kv(in_object: Any) -> None:
    """sync-kv-test.js ``MyActor.run``."""

    def run(ctx: Any) -> None:
        kv = ctx.storage.kv
        assert kv.get("foo") is None
        kv.put("foo", 123)
        assert kv.get("foo") == 123
        assert kv.get("bar") is None
        kv.put("bar", "abc")
        assert kv.get("bar") == "abc"
        assert list(kv.list()) == [("bar", "abc"), ("foo", 123)]
        assert list(kv.list({"reverse": True})) == [("foo", 123), ("bar", "abc")]
        cursor1 = kv.list()
        cursor2 = kv.list()
        with pytest.raises(DurableObjectError) as info:
            list(cursor1)
        assert str(info.value) == INVALIDATED
        assert list(cursor2) == [("bar", "abc"), ("foo", 123)]
        kv.put("baz", False)
        assert list(kv.list({"prefix": "ba"})) == [("bar", "abc"), ("baz", False)]
        assert list(kv.list({"limit": 1})) == [("bar", "abc")]
        assert list(kv.list({"limit": 1, "reverse": True})) == [("foo", 123)]
        assert list(kv.list({"start": "b", "end": "c"})) == [("bar", "abc"), ("baz", False)]
        assert list(kv.list({"start": "b", "end": "baz"})) == [("bar", "abc")]
        assert list(kv.list({"start": "bar", "end": "c"})) == [("bar", "abc"), ("baz", False)]
        assert list(kv.list({"startAfter": "bar", "end": "c"})) == [("baz", False)]
        assert kv.delete("qux") is False
        assert kv.delete("bar") is True
        assert list(kv.list()) == [("baz", False), ("foo", 123)]

    await in_object(run)


async def test_finished_iterator_is_not_invalidated(in_object: Any) -> None:
    """A consumed iterator stays consumed (no error) when a new list() starts."""

    def run(ctx: Any) -> None:
        ctx.storage.kv.put("a", 1)
        first = ctx.storage.kv.list()
        assert list(first) == [("a", 1)]
        assert list(ctx.storage.kv.list()) == [("a", 1)]
        assert list(first) == []

    await in_object(run)
