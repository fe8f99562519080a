"""Attack: hostile values into KV and Durable Object storage
(docs/reliability.md, "Bad input gets the error Cloudflare gives").

Lone surrogates, integers beyond 2**53 and beyond Python's 4300-digit str limit, nesting
deeper than the stack, ``setAlarm(nan)``: each gets workerd's error class and text, or is
stored and read back, never a raw Python exception.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from edgekv.durable_objects import (
    DEFAULT_DO_LIMITS,
    DurableObjectRangeError,
    DurableObjectStorage,
    DurableObjectTypeError,
)
from edgekv.errors import KVRangeError, KVTypeError
from edgekv.kv import KVNamespace
from edgekv.storage import open_store
from tests.durable_objects.conftest import DurableObject, MakeRuntime


def _deep(levels: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(levels):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


class Box(DurableObject):
    async def run(self, fn: Any) -> Any:
        return await fn(self.ctx.storage)

    async def alarm(self) -> None:  # setAlarm needs a handler
        pass


Run = Callable[[Callable[[DurableObjectStorage], Awaitable[Any]]], Awaitable[Any]]


@pytest.fixture(params=["kv", "sqlite"])
async def run(request: pytest.FixtureRequest, make_runtime: MakeRuntime) -> Run:
    rt = await make_runtime(limits=DEFAULT_DO_LIMITS)
    ns = rt.namespace("BOX", Box, unique_key="w-Box", sqlite=request.param == "sqlite")
    host = rt._hosts["w-Box"]
    object_id = ns.idFromName("box")

    async def runner(fn: Callable[[DurableObjectStorage], Awaitable[Any]]) -> Any:
        return await host.dispatch(object_id, lambda inst: inst.run(fn))

    return runner


async def test_durable_object_values(run: Run) -> None:
    huge = 10**5000 + 7

    async def body(s: DurableObjectStorage) -> None:
        await s.put("surrogate", "a\ud800b")
        assert await s.get("surrogate") == "a\ud800b"
        await s.put("big", 2**70)
        assert await s.get("big") == 2**70
        await s.put("huge", huge)
        assert await s.get("huge") == huge
        with pytest.raises(DurableObjectRangeError, match="^Maximum call stack size exceeded$"):
            await s.put("deep", _deep(50_000))
        assert await s.get("deep") is None
        for bad in (math.nan, math.inf, -math.inf):
            with pytest.raises(DurableObjectTypeError) as caught:
                await s.setAlarm(bad)
            assert str(caught.value) == "The value cannot be converted because it is not a valid Date."
        assert await s.getAlarm() is None

    await run(body)


async def test_kv_values() -> None:
    store = open_store("memory://")
    kv = KVNamespace(store, "ns")
    await kv.put("huge", 10**5000)
    assert await kv.get("huge") == "1" + "0" * 5000
    with pytest.raises(KVRangeError, match="^Maximum call stack size exceeded$"):
        await kv.put("k", "v", metadata=_deep(50_000))
    with pytest.raises(KVTypeError, match="^Do not know how to serialize a BigInt$"):
        await kv.put("k", "v", metadata={"n": 2**60})
    assert await kv.get("k") is None
    await store.close()
