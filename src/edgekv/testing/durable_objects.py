"""Durable Object test helpers, like vitest-pool-workers' ``cloudflare:test`` module.

::

    from edgekv.testing import durable_objects as do

    async def test_counter(env):
        stub = env.COUNTER.getByName("a")
        await stub.increment()
        assert await do.run_in_durable_object(stub, lambda obj, ctx: ctx.storage.get("n")) == 1
        assert await do.run_durable_object_alarm(stub) is False   # no alarm set
        assert [i.name for i in do.list_durable_object_ids(env.COUNTER)] == ["a"]
        do.evict_durable_object(stub)                            # next call constructs anew

See ``edgekv.durable_objects.introspect`` for the contracts.
"""

from __future__ import annotations

from edgekv.durable_objects.introspect import (
    evict_all_durable_objects,
    evict_durable_object,
    list_durable_object_ids,
    run_durable_object_alarm,
    run_in_durable_object,
)

__all__ = [
    "evict_all_durable_objects",
    "evict_durable_object",
    "list_durable_object_ids",
    "run_durable_object_alarm",
    "run_in_durable_object",
]
