"""Execution model: one instance per id, serial events, blockConcurrencyWhile, reset, eviction."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from edgekv.clock import FakeClock
from edgekv.durable_objects import DurableObjectReset

from .conftest import DurableObject, MakeRuntime


class Counter(DurableObject):
    instances = 0

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        Counter.instances += 1
        self.events: list[str] = []

    async def increment(self, by: int = 1) -> int:
        # Only storage awaits between read and write: the input gate makes this atomic.
        value = await self.ctx.storage.get("n") or 0
        await self.ctx.storage.put("n", value + by)
        return value + by

    async def increment_with_timer(self) -> int:
        value = await self.ctx.storage.get("n") or 0
        await asyncio.sleep(0.01)  # a timer opens the input gate: other events may run here
        await self.ctx.storage.put("n", value + 1)
        return value + 1

    async def log(self, tag: str, delay: float = 0) -> list[str]:
        self.events.append(f"start {tag}")
        await asyncio.sleep(delay)
        self.events.append(f"end {tag}")
        return self.events

    async def call_self(self, depth: int) -> int:
        if depth == 0:
            return 0
        me = self.env["NS"].get(self.ctx.id)
        return 1 + await me.call_self(depth - 1)


@pytest.mark.parametrize("sqlite", [False, True])
async def test_concurrent_increments_are_serial(make_runtime: MakeRuntime, sqlite: bool) -> None:
    rt = await make_runtime()
    ns = rt.namespace("C", Counter, unique_key="w-Counter", sqlite=sqlite)
    stubs = [ns.getByName("one") for _ in range(100)]
    results = await asyncio.gather(*(s.increment() for s in stubs))
    assert sorted(results) == list(range(1, 101))
    assert await ns.getByName("one").increment(0) == 100


@pytest.mark.parametrize("sqlite", [False, True])
async def test_a_timer_between_read_and_write_lets_events_interleave(
    make_runtime: MakeRuntime, sqlite: bool
) -> None:
    """workerd: awaiting a timer is not storage, so the input gate is open (lost update)."""
    rt = await make_runtime()
    ns = rt.namespace("C", Counter, unique_key="w-Counter", sqlite=sqlite)
    results = await asyncio.gather(*(ns.getByName("t").increment_with_timer() for _ in range(5)))
    assert results == [1, 1, 1, 1, 1]


async def test_one_instance_and_arrival_order(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("C", Counter, unique_key="w-Counter")
    before = Counter.instances
    stub = ns.getByName("x")
    slow = asyncio.create_task(stub.log("a", 0.02))
    await asyncio.sleep(0)
    fast = asyncio.create_task(stub.log("b"))
    await asyncio.gather(slow, fast)
    # While "a" awaits a timer its input gate is open: "b" runs meanwhile (as in workerd).
    assert (await stub.log("c"))[:4] == ["start a", "start b", "end b", "end a"]
    assert Counter.instances == before + 1


async def test_different_objects_run_concurrently(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("C", Counter, unique_key="w-Counter")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(ns.getByName(str(i)).log("x", 0.05) for i in range(10)))
    assert loop.time() - started < 0.3


async def test_reentrant_call_does_not_deadlock(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("C", Counter, unique_key="w-Counter")
    rt.set_env({"NS": ns})
    assert await asyncio.wait_for(ns.getByName("r").call_self(3), 1) == 3


class Loader(DurableObject):
    fail_next = 0
    constructed = 0

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        Loader.constructed += 1
        self.loaded: Any = None
        ctx.blockConcurrencyWhile(self._load)  # not awaited: the Python Workers pattern

    async def _load(self) -> None:
        await asyncio.sleep(0.01)
        if Loader.fail_next:
            Loader.fail_next -= 1
            raise RuntimeError("load failed")
        self.loaded = await self.ctx.storage.get("state") or "fresh"

    async def read(self) -> Any:
        return self.loaded

    async def block_then_fail(self) -> None:
        await self.ctx.block_concurrency_while(self._boom)

    async def _boom(self) -> None:
        raise RuntimeError("blocked and failed")

    async def blocked_value(self) -> int:
        return await self.ctx.blockConcurrencyWhile(lambda: 7)


async def test_block_concurrency_while_in_constructor(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("L", Loader, unique_key="w-Loader")
    await rt.namespace("L", Loader, unique_key="w-Loader").getByName("a").blocked_value()
    assert await ns.getByName("a").read() == "fresh"  # the first event waited for _load
    assert await ns.getByName("a").blocked_value() == 7


async def test_failed_block_concurrency_while_resets(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("L", Loader, unique_key="w-Loader")
    Loader.fail_next = 1
    before = Loader.constructed
    with pytest.raises(RuntimeError, match="load failed"):
        await ns.getByName("b").read()
    assert rt.live_objects == 0
    assert await ns.getByName("b").read() == "fresh"
    assert Loader.constructed == before + 2
    with pytest.raises(RuntimeError, match="blocked and failed"):
        await ns.getByName("b").block_then_fail()
    assert rt.live_objects == 0
    assert await ns.getByName("b").read() == "fresh"
    assert Loader.constructed == before + 3


async def test_block_concurrency_while_timeout_resets(make_runtime: MakeRuntime) -> None:
    from dataclasses import replace

    from edgekv.durable_objects import TESTING_DO_LIMITS

    rt = await make_runtime(limits=replace(TESTING_DO_LIMITS, block_concurrency_timeout_seconds=0.02))

    class Slow(DurableObject):
        async def go(self) -> None:
            await self.ctx.blockConcurrencyWhile(lambda: asyncio.sleep(1))

    stub = rt.namespace("S", Slow, unique_key="w-Slow").getByName("a")
    with pytest.raises(DurableObjectReset, match="waited for too long"):
        await stub.go()
    assert rt.live_objects == 0


class Fragile(DurableObject):
    attempts = 0

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        Fragile.attempts += 1
        if Fragile.attempts == 1:
            raise RuntimeError("constructor failed")

    async def ping(self) -> str:
        return "pong"

    async def abort(self) -> None:
        self.ctx.abort("bye")


async def test_constructor_failure_resets(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    stub = rt.namespace("F", Fragile, unique_key="w-Fragile").getByName("a")
    with pytest.raises(RuntimeError, match="constructor failed"):
        await stub.ping()
    assert await stub.ping() == "pong"
    assert Fragile.attempts == 2


async def test_abort_resets(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    Fragile.attempts = 1
    stub = rt.namespace("F", Fragile, unique_key="w-Fragile").getByName("a")
    with pytest.raises(DurableObjectReset, match="bye"):
        await stub.abort()
    assert rt.live_objects == 0
    with pytest.raises(DurableObjectReset, match="bye"):  # as workerd: the old stub is broken
        await stub.ping()
    assert await rt.get_namespace("F").getByName("a").ping() == "pong"


@pytest.mark.parametrize("sqlite", [False, True])
async def test_idle_objects_are_evicted_and_reload(
    make_runtime: MakeRuntime, clock: FakeClock, sqlite: bool
) -> None:
    rt = await make_runtime(idle_timeout_seconds=60)
    ns = rt.namespace("C", Counter, unique_key="w-Counter", sqlite=sqlite)
    for i in range(5):
        await ns.getByName(str(i)).increment(i + 1)
    assert rt.live_objects == 5
    clock.advance(30)
    await ns.getByName("0").increment()
    clock.advance(31)
    assert rt.evict_idle() == 4  # "0" was used 31 s ago
    assert rt.live_objects == 1 and rt.registry_size == 1
    clock.advance(60)
    assert rt.evict_idle() == 1
    assert rt.registry_size == 0  # nothing at all is kept for an evicted object
    before = Counter.instances
    assert await ns.getByName("3").increment(0) == 4  # storage survived
    assert Counter.instances == before + 1


async def test_the_eviction_hook_hears_how_many_went(make_runtime: MakeRuntime,
                                                   clock: FakeClock) -> None:
    """The runtime leaves process memory alone: whoever owns the process sets ``on_evicted``
    (edgekv dev/serve give freed heap back to the OS there: tests/server/test_memory.py)."""
    rt = await make_runtime()
    heard: list[int] = []
    ns = rt.namespace("C", Counter, unique_key="w-Counter", sqlite=True)
    await ns.getByName("a").increment()
    await ns.getByName("b").increment()
    assert rt.on_evicted is None
    rt.evict_idle()  # nothing idle long enough, no hook: nothing called
    rt.on_evicted = heard.append
    assert rt.evict_idle() == 0 and heard == []
    clock.advance(1000)
    assert rt.evict_idle() == 2 and heard == [2]


async def test_evicted_objects_are_garbage(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    import weakref

    rt = await make_runtime()
    stub = rt.namespace("C", Counter, unique_key="w-Counter", sqlite=True).getByName("g")
    await stub.increment()
    instance = rt._hosts["w-Counter"].entries[stub.id.toString()].instance
    ref = weakref.ref(instance)
    del instance
    clock.advance(1000)
    rt.evict_idle()
    gc.collect()
    assert ref() is None


async def test_busy_objects_are_not_evicted(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    ns = rt.namespace("C", Counter, unique_key="w-Counter")
    task = asyncio.create_task(ns.getByName("busy").log("x", 0.05))
    await asyncio.sleep(0.01)
    clock.advance(1000)
    assert rt.evict_idle() == 0
    await task


async def test_replacing_the_class_resets_objects(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    rt.namespace("C", Counter, unique_key="w-Counter")
    await rt.get_namespace("C").getByName("a").increment()

    class Counter2(Counter):
        async def version(self) -> int:
            return 2

    ns = rt.namespace("C", Counter2, unique_key="w-Counter")
    assert await ns.getByName("a").version() == 2
    assert await ns.getByName("a").increment() == 2
