"""workerd actor tests, translated: ``src/workerd/api/tests/actor-alarms-test.js``,
``actor-alarms-delete-test.js``, ``actor-alarms-name-test.js``,
``delete-all-deletes-alarm-test.js``, ``actor-kv-test.js``, ``actor-stub-test.js`` and
``actor-block-concurrency-depth-test.js``.

``Date.now()`` is the injected fake clock; the alarm scheduler is driven with
``run_due_alarms()`` instead of real timers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from edgekv.clock import FakeClock
from edgekv.durable_objects import DurableObjectError
from edgekv.testing import durable_objects as do

from ..conftest import DurableObject, MakeRuntime

WAITING: list[asyncio.Future[None]] = []  # handlers now waiting for their alarm


@pytest.fixture(autouse=True)
def _clear_waiting() -> None:
    WAITING.clear()


def now_ms(clock: FakeClock) -> int:
    return int(clock.now() * 1000)


async def _wait_for(predicate: Any, timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.001)


class AlarmExample(DurableObject):
    """actor-alarms-test.js ``DurableObjectExample``."""

    clock: FakeClock

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.waiter: asyncio.Future[None] | None = None
        self.scheduled_time = 0

    async def wait_for_alarm(self, scheduled_time: int) -> None:
        self.waiter = asyncio.get_running_loop().create_future()
        WAITING.append(self.waiter)
        await self.waiter  # not storage: the alarm event may run meanwhile
        assert now_ms(self.clock) >= scheduled_time
        alarm = await self.ctx.storage.getAlarm()
        assert alarm is None, f"alarm time not cleared when handler ends. {alarm}"

    async def fetch(self, request: Any) -> str:
        time = now_ms(self.clock) + 50
        self.scheduled_time = time
        await self.ctx.storage.setAlarm(time)
        assert await self.ctx.storage.getAlarm() == time
        await self.wait_for_alarm(time)
        return "OK"

    async def alarm(self, alarm_info: Any) -> None:
        assert self.waiter is not None
        try:
            time = await self.ctx.storage.getAlarm()
            assert time is None, f"time not null inside alarm handler {time}"
            assert isinstance(alarm_info.scheduledTime, float)
            assert alarm_info.scheduledTime == self.scheduled_time
            self.waiter.set_result(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting fetch
            self.waiter.set_exception(exc)


@pytest.mark.parametrize("sqlite", [False, True])
async def test_actor_alarms(make_runtime: MakeRuntime, clock: FakeClock, sqlite: bool) -> None:
    """actor-alarms-test.js ``test``: fetch waits for its alarm; scheduledTime is passed."""
    AlarmExample.clock = clock
    rt = await make_runtime()
    ns = rt.namespace("ns", AlarmExample, unique_key="w-AlarmExample", sqlite=sqlite)
    fetch = asyncio.create_task(ns.get(ns.idFromName("A")).fetch("http://foo/test"))
    await _wait_for(lambda: bool(WAITING))
    clock.advance(0.05)
    assert await rt.run_due_alarms() == 1
    assert await asyncio.wait_for(fetch, 2) == "OK"


class AlarmDeleteExample(DurableObject):
    """actor-alarms-delete-test.js ``DurableObjectExample``."""

    clock: FakeClock

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.waiter: asyncio.Future[None] | None = None
        self.alarms_triggered = 0

    async def alarm(self) -> None:
        assert self.waiter is not None
        try:
            self.alarms_triggered += 1
            assert await self.ctx.storage.getAlarm() is None
            await self.ctx.storage.deleteAlarm()  # no effect: nothing else queued
            await self.ctx.storage.setAlarm(now_ms(self.clock) + 50)
            await self.ctx.storage.deleteAlarm()  # deletes the queued one
            self.waiter.set_result(None)
        except BaseException as exc:  # noqa: BLE001
            self.waiter.set_exception(exc)

    async def fetch(self, request: Any) -> str:
        await self.ctx.storage.setAlarm(now_ms(self.clock) + 500)
        await self.ctx.storage.deleteAlarm()
        time = now_ms(self.clock) + 500
        await self.ctx.storage.setAlarm(time)
        assert await self.ctx.storage.getAlarm() == time
        self.waiter = asyncio.get_running_loop().create_future()
        WAITING.append(self.waiter)
        await self.waiter
        assert await self.ctx.storage.getAlarm() is None
        assert self.alarms_triggered == 1
        return "OK"


async def test_actor_alarms_delete(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    """actor-alarms-delete-test.js: deleting inside alarm(); only one alarm runs."""
    AlarmDeleteExample.clock = clock
    rt = await make_runtime()
    ns = rt.namespace("ns", AlarmDeleteExample, unique_key="w-AlarmDelete", sqlite=True)
    fetch = asyncio.create_task(ns.get(ns.idFromName("A")).fetch("http://foo/test"))
    await _wait_for(lambda: bool(WAITING))
    clock.advance(0.5)
    assert await rt.run_due_alarms() == 1
    assert await asyncio.wait_for(fetch, 2) == "OK"
    clock.advance(1)
    assert await rt.run_due_alarms() == 0


class AlarmNameObject(DurableObject):
    """actor-alarms-name-test.js ``AlarmNameObject``."""

    clock: FakeClock

    async def fetch(self, path: str) -> Any:
        if path == "/setup":
            await self.ctx.storage.setAlarm(now_ms(self.clock) + 1000)
            return "ok"
        return {"seen": await self.ctx.storage.get("nameSeenInAlarm")}

    async def alarm(self) -> None:
        name = self.ctx.id.name
        await self.ctx.storage.put("nameSeenInAlarm", name if name is not None else "<undefined>")


async def test_alarm_sees_name_after_eviction(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    """actor-alarms-name-test.js: ``ctx.id.name`` inside alarm() of an evicted named object."""
    AlarmNameObject.clock = clock
    rt = await make_runtime()
    ns = rt.namespace("NS", AlarmNameObject, unique_key="w-AlarmName", sqlite=True)
    name = "my-named-actor"
    assert await ns.getByName(name).fetch("/setup") == "ok"
    do.evict_durable_object(ns.getByName(name))
    clock.advance(1)
    assert await rt.run_due_alarms() == 1
    assert await ns.getByName(name).fetch("/read") == {"seen": name}


class DeleteAllExample(DurableObject):
    """delete-all-deletes-alarm-test.js ``DurableObjectExample``."""

    clock: FakeClock

    async def fetch(self, expect_deleted: bool) -> str:
        alarm_time = now_ms(self.clock) + 10 * 60 * 1000
        await self.ctx.storage.setAlarm(alarm_time)
        assert await self.ctx.storage.getAlarm() == alarm_time
        await self.ctx.storage.put("key", "value")
        await self.ctx.storage.deleteAll()
        assert await self.ctx.storage.get("key") is None
        after = await self.ctx.storage.getAlarm()
        if expect_deleted:
            assert after is None
        else:
            assert after == alarm_time
            await self.ctx.storage.deleteAlarm()
        return "OK"

    async def alarm(self) -> None:
        raise AssertionError("alarm handler unexpectedly invoked")


@pytest.mark.parametrize("sqlite", [False, True])
@pytest.mark.parametrize(
    ("flags", "expect_deleted"),
    [(("delete_all_deletes_alarm",), True), (("delete_all_preserves_alarm",), False)],
)
async def test_delete_all_deletes_alarm(
    make_runtime: MakeRuntime, clock: FakeClock, sqlite: bool, flags: Any, expect_deleted: bool
) -> None:
    """delete-all-deletes-alarm-test.js (both .wd-test configurations)."""
    DeleteAllExample.clock = clock
    rt = await make_runtime(compatibility_date="2025-06-01", compatibility_flags=flags)
    ns = rt.namespace("ns", DeleteAllExample, unique_key="w-DeleteAll", sqlite=sqlite)
    assert await ns.get(ns.idFromName("A")).fetch(expect_deleted) == "OK"


class ActorKvTest(DurableObject):
    """actor-kv-test.js ``ActorKvTest``: every storage operation once."""

    async def fetch(self, path: str) -> dict[str, Any]:
        storage = self.ctx.storage
        await storage.put("testKey1", "testValue")
        await storage.put({"foo1": "bar1", "foo2": "bar2", "foo3": "bar3", "foo4": "bar4"})
        await storage.get("testKey2")
        await storage.get(["testKey1", "testKey2"])
        await storage.delete("testKey1")
        await storage.list()
        await storage.deleteAll()
        await storage.setAlarm(10_000_000_000_000)
        await storage.getAlarm()
        await storage.deleteAlarm()
        assert await storage.transaction(lambda txn: "test") == "test"
        await storage.sync()
        return {"ok": True, "test": "kv-operations"}

    def alarm(self) -> None:
        pass


@pytest.mark.parametrize("sqlite", [False, True])
async def test_actor_kv_operations(make_runtime: MakeRuntime, sqlite: bool) -> None:
    """actor-kv-test.js ``test``."""
    rt = await make_runtime()
    ns = rt.namespace("ns", ActorKvTest, unique_key="w-ActorKv", sqlite=sqlite)
    stub = ns.get(ns.idFromName("actor-kv-test"))
    assert await stub.fetch("http://test.example/kv-test") == {"ok": True, "test": "kv-operations"}


class StubExample(DurableObject):
    """actor-stub-test.js ``DurableObjectExample``."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.check = True

    async def fetch(self, request: Any) -> str:
        return "OK"

    async def foo(self) -> str:
        return "foo from remote"

    async def throw(self) -> None:
        raise RuntimeError(1)

    def thisCheck(self) -> bool:
        if self.check is not True:
            raise RuntimeError("incorrect this within rpc function call")
        return True


async def _check_durable_object(stub: Any) -> None:
    assert await stub.foo() == "foo from remote"
    assert await stub.thisCheck() is True
    assert await stub.fetch("http://foo/") == "OK"
    with pytest.raises(RuntimeError):
        await stub.throw()


async def test_actor_stub(make_runtime: MakeRuntime) -> None:
    """actor-stub-test.js ``test``: ids, stubs, nullish jurisdictions, properties on stubs."""
    rt = await make_runtime()
    ns = rt.namespace("ns", StubExample, unique_key="w-Stub")
    object_id = ns.idFromName("foo")
    assert object_id.name == "foo"
    assert object_id.jurisdiction is None
    assert not ns.newUniqueId().equals(ns.newUniqueId())
    assert ns.idFromString(object_id.toString()).toString() == object_id.toString()
    obj = ns.get(object_id)
    assert obj.name == "foo"
    assert obj.id == object_id and obj.id.name == "foo" and obj.id.jurisdiction is None
    await _check_durable_object(obj)
    for other in (ns.get(object_id, {"locationHint": "wnam"}), ns.getByName("foo"),
                  ns.getByName("foo", {"locationHint": "wnam"})):
        assert other.id == obj.id and other.name == obj.name
        await _check_durable_object(other)
    for jurisdiction in (None,):  # JS null and undefined are both Python None
        await _check_durable_object(ns.get(ns.jurisdiction(jurisdiction).newUniqueId()))
        await _check_durable_object(ns.get(ns.newUniqueId({"jurisdiction": jurisdiction})))
    obj.baz = lambda: "called baz"
    assert callable(obj.baz)
    assert obj.baz() == "called baz"
    with pytest.raises(DurableObjectError, match="not implemented in workerd"):
        ns.jurisdiction("eu")


class DepthTester(DurableObject):
    """actor-block-concurrency-depth-test.js ``DepthTester``."""

    async def probeAtDepth(self, enter_count: int) -> dict[str, Any]:
        async def recurse(remaining: int) -> dict[str, Any]:
            if remaining > 0:
                return await self.ctx.blockConcurrencyWhile(lambda: recurse(remaining - 1))
            try:
                await self.ctx.blockConcurrencyWhile(lambda: "ok")
                return {"threw": False}
            except DurableObjectError as exc:
                return {"threw": True, "message": str(exc)}

        return await recurse(enter_count)


async def test_block_concurrency_depth(make_runtime: MakeRuntime) -> None:
    """actor-block-concurrency-depth-test.js ``test``: 64 nested calls allowed, 65 refused."""
    rt = await make_runtime()
    ns = rt.namespace("ns", DepthTester, unique_key="w-Depth")
    assert (await ns.getByName("at-limit").probeAtDepth(63))["threw"] is False
    over = await ns.getByName("over-limit").probeAtDepth(64)
    assert over["threw"] is True
    assert over["message"] == "blockConcurrencyWhile() calls are nested too deeply."
    assert (await ns.getByName("over-limit").probeAtDepth(1))["threw"] is False


# -- cases that cannot apply, with the reason ------------------------------------------------


@pytest.mark.skip(reason="JavaScript own-property enumeration has no Python counterpart; "
                         "setting a property on a stub is checked in test_actor_stub")
def test_stub_object_keys() -> None:
    """actor-stub-test.js: ``Object.keys(obj).length`` of a stub is 2, then 3."""


@pytest.mark.skip(reason="deliberate difference: Cloudflare wraps every Python Durable Object "
                         "in a proxy that has alarm(), so Python objects may always setAlarm()")
def test_set_alarm_without_alarm_handler() -> None:
    """workerd src/workerd/io/worker.c++: "Your Durable Object class must have an alarm()
    handler in order to call setAlarm()" (JavaScript classes only)."""
