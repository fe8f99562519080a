"""Alarms: scheduling, firing, retries with backoff, persistence across runtime restarts."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from edgekv.clock import FakeClock
from edgekv.durable_objects import AlarmInfo, DurableObjectTypeError
from edgekv.storage import open_store

from .conftest import DurableObject, MakeRuntime

FIRED: list[tuple[str | None, int, bool, Any]] = []
SCHEDULED: list[float] = []


class Alarmed(DurableObject):
    failures_left = 0

    async def schedule(self, millis: Any) -> Any:
        await self.ctx.storage.setAlarm(millis)
        return await self.ctx.storage.getAlarm()

    async def cancel(self) -> None:
        await self.ctx.storage.deleteAlarm()

    async def current(self) -> Any:
        return await self.ctx.storage.get_alarm()

    async def alarm(self, alarm_info: AlarmInfo) -> None:
        during = await self.ctx.storage.getAlarm()
        FIRED.append((self.ctx.id.name, alarm_info.retryCount, alarm_info.isRetry, during))
        SCHEDULED.append(alarm_info.scheduledTime)
        await self.ctx.storage.put("fired", len(FIRED))
        if Alarmed.failures_left:
            Alarmed.failures_left -= 1
            raise RuntimeError("alarm failed")


class NoAlarm(DurableObject):
    async def schedule(self) -> Any:
        await self.ctx.storage.setAlarm(5_000)
        return await self.ctx.storage.getAlarm()

    async def current(self) -> Any:
        return await self.ctx.storage.getAlarm()


@pytest.fixture(autouse=True)
def _reset() -> None:
    FIRED.clear()
    SCHEDULED.clear()
    Alarmed.failures_left = 0


def ms(clock: FakeClock, seconds: float = 0) -> int:
    return int((clock.now() + seconds) * 1000)


async def test_set_get_delete(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    stub = rt.namespace("A", Alarmed, unique_key="w-Alarmed").getByName("a")
    assert await stub.current() is None
    assert await stub.schedule(ms(clock, 10)) == ms(clock, 10)
    when = dt.datetime.fromtimestamp(clock.now() + 20, dt.UTC)
    assert await stub.schedule(when) == ms(clock, 20)
    assert await stub.schedule(5) == ms(clock)  # the past is moved to now
    await stub.cancel()
    assert await stub.current() is None


async def test_invalid_alarms(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    stub = rt.namespace("A", Alarmed, unique_key="w-Alarmed").getByName("a")
    with pytest.raises(DurableObjectTypeError) as info:
        await stub.schedule(0)
    assert str(info.value) == "setAlarm() cannot be called with an alarm time <= 0"
    # A Python class without alarm() may still set one: workerd's JS wrapper class defines
    # alarm() for every Python Durable Object (docs/durable-objects.md, "Alarms": real suites
    # rely on it).
    no_alarm = rt.namespace("N", NoAlarm, unique_key="w-NoAlarm").getByName("a")
    assert await no_alarm.schedule() is not None
    clock.advance(120)
    assert await rt.run_due_alarms() == 1  # fires into nothing, then is gone
    assert await no_alarm.current() is None


async def test_alarm_fires_when_due(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    stub = rt.namespace("A", Alarmed, unique_key="w-Alarmed").getByName("a")
    await stub.schedule(ms(clock, 10))
    assert await rt.run_due_alarms() == 0
    clock.advance(10)
    assert await rt.run_due_alarms() == 1
    assert FIRED == [("a", 0, False, None)]  # getAlarm() is None inside its own handler
    assert await stub.current() is None
    assert await rt.run_due_alarms() == 0


async def test_alarm_constructs_an_evicted_object(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    stub = rt.namespace("A", Alarmed, unique_key="w-Alarmed").getByName("e")
    await stub.schedule(ms(clock, 100))
    clock.advance(1000)
    assert rt.evict_idle() == 1 and rt.live_objects == 0
    assert await rt.run_due_alarms() == 1
    assert FIRED[0][0] == "e" and rt.live_objects == 1


async def test_failed_alarm_is_retried_with_backoff(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    stub = rt.namespace("A", Alarmed, unique_key="w-Alarmed").getByName("r")
    Alarmed.failures_left = 2
    first = ms(clock)
    await stub.schedule(first)
    await rt.run_due_alarms()
    assert await stub.current() == ms(clock, 2)  # first retry after 2 s
    clock.advance(2)
    await rt.run_due_alarms()
    assert await stub.current() == ms(clock, 4)  # then 4 s
    clock.advance(4)
    await rt.run_due_alarms()
    assert [(r, is_retry) for _, r, is_retry, _ in FIRED] == [(0, False), (1, True), (2, True)]
    assert SCHEDULED == [first] * 3  # retries report the time the alarm was set for (workerd)
    assert await stub.current() is None


async def test_retries_stop_after_six(make_runtime: MakeRuntime, clock: FakeClock) -> None:
    rt = await make_runtime()
    stub = rt.namespace("A", Alarmed, unique_key="w-Alarmed").getByName("r")
    Alarmed.failures_left = 100
    await stub.schedule(ms(clock))
    for _ in range(10):
        await rt.run_due_alarms()
        clock.advance(200)
    assert [r for _, r, _, _ in FIRED] == [0, 1, 2, 3, 4, 5, 6]
    assert await stub.current() is None


async def test_alarm_persists_across_restart(tmp_path: Path, clock: FakeClock) -> None:
    from edgekv.durable_objects import TESTING_DO_LIMITS, DurableObjectRuntime

    url = f"sqlite:///{tmp_path / 'store.db'}"
    state = str(tmp_path / "state")
    for sqlite in (False, True):
        store = open_store(url, clock=clock)
        rt = DurableObjectRuntime(store, state, clock=clock, limits=TESTING_DO_LIMITS)
        ns = rt.namespace("A", Alarmed, unique_key=f"w-Alarmed-{sqlite}", sqlite=sqlite)
        await rt.start()
        await ns.getByName("p").schedule(ms(clock, 60))
        await rt.close()
        await rt.close()  # idempotent
        await store.close()

    clock.advance(120)  # both alarms are overdue when the next process starts
    store = open_store(url, clock=clock)
    rt = DurableObjectRuntime(store, state, clock=clock, limits=TESTING_DO_LIMITS)
    ns_kv = rt.namespace("A", Alarmed, unique_key="w-Alarmed-False")
    ns_sql = rt.namespace("B", Alarmed, unique_key="w-Alarmed-True", sqlite=True)
    await rt.start()
    for _ in range(50):
        if len(FIRED) == 2:
            break
        await asyncio.sleep(0.01)
    assert sorted(FIRED) == [("p", 0, False, None), ("p", 0, False, None)]
    assert await ns_kv.getByName("p").current() is None
    assert await ns_sql.getByName("p").current() is None
    await rt.close()
    await store.close()


async def test_background_loop_fires_soon(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime(start=True, clock=None)  # the real clock
    import time

    stub = rt.namespace("A", Alarmed, unique_key="w-Alarmed").getByName("soon")
    await stub.schedule(int(time.time() * 1000) + 30)
    for _ in range(40):
        if FIRED:
            break
        await asyncio.sleep(0.01)
    assert FIRED and FIRED[0][0] == "soon"
