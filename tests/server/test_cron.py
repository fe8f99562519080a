"""``CronScheduler`` fires ``triggers.crons`` at the minute, through the DevServer, and on
simulated time (``VirtualTimeLoop``) for what takes minutes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from pathlib import Path

import pytest

from edgekv.config import load_config
from edgekv.edge.virtualtime import LoopClock, VirtualTimeLoop
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.cron import CronScheduler, next_fire
from edgekv.server.dev import DevServer

ENTRY = """\
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        await env.KV.put(controller.cron, str(controller.scheduledTime))

    async def fetch(self):
        return Response("ok")
"""


def test_next_fire_groups_crons_due_together() -> None:
    import datetime as dt

    moment = dt.datetime(2026, 12, 3, 9, 59, 30, tzinfo=dt.UTC)
    when, due = next_fire(("*/1 * * * *", "0 * * * *", "0 0 * * *"), moment)
    assert when == dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
    assert due == ["*/1 * * * *", "0 * * * *"]


async def test_dev_server_fires_crons_on_schedule(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "wrangler.toml").write_text(
        'name = "cron"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n'
        'kv_namespaces = [{ binding = "KV", id = "kv" }]\n'
        '[triggers]\ncrons = ["*/1 * * * *", "*/2 * * * *"]\n')
    runtime = await WorkerRuntime.open(load_config(tmp_path, cwd=tmp_path, environ={}),
                                       store_url="memory://")
    # A wall clock that reads 0.3 s before an even minute when the scheduler first looks
    # (however long the server took to start), so both triggers are due almost at once.
    target = (math.floor(time.time() / 120) + 1) * 120
    started: list[float] = []

    def clock() -> float:
        if not started:
            started.append(time.monotonic())
        return target - 0.3 + (time.monotonic() - started[0])

    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, on_ready=ready.set_result)
    server.crons._now = clock
    serving = asyncio.create_task(server.serve())
    await asyncio.wait_for(ready, 10)
    deadline = time.monotonic() + 10
    while len(server.crons.fired) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [cron for cron, _ in server.crons.fired] == ["*/1 * * * *", "*/2 * * * *"]
    assert await runtime.env.KV.get("*/1 * * * *") == str(target * 1000)
    assert await runtime.env.KV.get("*/2 * * * *") == str(target * 1000)
    server.stop()
    await asyncio.wait_for(serving, 10)


async def test_run_crons_false_fires_nothing(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "wrangler.toml").write_text(
        'name = "cron"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n'
        'kv_namespaces = [{ binding = "KV", id = "kv" }]\n[triggers]\ncrons = ["* * * * *"]\n')
    runtime = await WorkerRuntime.open(load_config(tmp_path, cwd=tmp_path, environ={}),
                                       store_url="memory://")
    real = time.time()
    offset = (math.floor(real / 60) + 1) * 60 - 0.1 - real
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, on_ready=ready.set_result,
                       run_crons=False)
    server.crons._now = lambda: time.time() + offset
    serving = asyncio.create_task(server.serve())
    await asyncio.wait_for(ready, 10)
    await asyncio.sleep(0.4)
    assert server.crons.fired == []
    server.stop()
    await asyncio.wait_for(serving, 10)


SLOW_ENTRY = """\
import asyncio

from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        if controller.cron == "* * * * *" and not await env.KV.get("slow"):
            await env.KV.put("slow", "started")
            await asyncio.sleep(150)  # outlasts the next two fire times
        await env.KV.put(f"{controller.cron} {controller.scheduledTime}", "fired")

    async def fetch(self):
        return Response("ok")
"""


def _simulated(tmp_path: Path, entry: str, crons: str, start: float, seconds: float,
               block: tuple[float, float] | None = None) -> list[tuple[str, float]]:
    """Run a ``CronScheduler`` for ``seconds`` of simulated time on a ``VirtualTimeLoop`` whose
    injected clock reads ``start`` first; what it fired. ``block=(at, for_seconds)`` stands
    for the loop blocked (or the process suspended): at ``at`` s, the clock jumps."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(entry)
    (tmp_path / "wrangler.toml").write_text(
        'name = "cron"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n'
        f'kv_namespaces = [{{ binding = "KV", id = "kv" }}]\n[triggers]\ncrons = {crons}\n')
    loop = VirtualTimeLoop()
    clock = LoopClock(loop, epoch=start)

    async def run() -> list[tuple[str, float]]:
        runtime = await WorkerRuntime.open(load_config(tmp_path, cwd=tmp_path, environ={}),
                                           store_url="memory://")
        scheduler = CronScheduler(runtime, now=clock.now)
        task = asyncio.create_task(scheduler.run_forever())
        if block is not None:
            await asyncio.sleep(block[0])
            loop.advance(block[1])  # nothing ran meanwhile
            await asyncio.sleep(seconds - block[0] - block[1])
        else:
            await asyncio.sleep(seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await runtime.close()
        return scheduler.fired

    try:
        return loop.run_until_complete(run())
    finally:
        loop.close()


def test_a_scheduled_event_that_outlasts_the_interval_does_not_cost_the_next_fires(tmp_path: Path) -> None:
    # Each scheduled event is an invocation of its own, as on Cloudflare (where one may run
    # for minutes): the first one runs 150 s, and the next two minutes fire all the same.
    minute = 1_800_000_000.0  # a whole minute
    fired = _simulated(tmp_path, SLOW_ENTRY, '["* * * * *", "*/2 * * * *"]', minute - 0.5, 200.0)
    assert fired == [("* * * * *", minute), ("*/2 * * * *", minute),
                     ("* * * * *", minute + 60), ("* * * * *", minute + 120),
                     ("*/2 * * * *", minute + 120), ("* * * * *", minute + 180)]


def test_a_fire_time_passed_while_the_loop_was_blocked_fires_once_late(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Blocked from 0.25 s before a minute to 149.75 s after it: that minute fires once, late,
    # with its planned scheduledTime; the two minutes after it are not replayed, but counted.
    minute = 1_800_000_000.0
    with caplog.at_level(logging.WARNING, logger="edgekv.dev"):
        fired = _simulated(tmp_path, ENTRY, '["* * * * *"]', minute - 0.5, 200.0, block=(0.25, 150.0))
    assert fired == [("* * * * *", minute), ("* * * * *", minute + 180)]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        ("2 scheduled event(s) after 2027-01-15T08:00:00Z not run: the scheduler woke at "
         "2027-01-15T08:02:29Z (the event loop was blocked or the process suspended)")]
