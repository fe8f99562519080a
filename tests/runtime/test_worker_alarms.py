"""Durable Object alarms through the Worker runtime (what ``edgekv dev`` runs): an alarm set
before a shutdown fires when the runtime starts again after its time has passed."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import httpx

from edgekv.clock import FakeClock
from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime

WRANGLER = """\
name = "alarms"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "REMINDER"
class_name = "Reminder"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Reminder"]
"""

ENTRY = """\
from workers import DurableObject, Response, WorkerEntrypoint


class Reminder(DurableObject):
    async def fetch(self, request):
        if request.url.endswith("/set"):
            await self.ctx.storage.setAlarm(await self._now() + 60_000)
            return Response("set")
        fired = await self.ctx.storage.get("fired") or 0
        return Response(str(fired))

    async def _now(self):
        return int(await self.ctx.storage.get("now_ms") or 0)

    async def remember_now(self, now_ms):
        await self.ctx.storage.put("now_ms", now_ms)

    async def alarm(self, alarm_info=None):
        await self.ctx.storage.put("fired", (await self.ctx.storage.get("fired") or 0) + 1)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        stub = self.env.REMINDER.getByName("r")
        if request.url.endswith("/set"):
            await stub.remember_now(int(self.env.NOW_MS))
        return await stub.fetch(request)
"""


async def _open(project: Path, clock: FakeClock) -> WorkerRuntime:
    config = load_config(project)
    paths = config.state_paths(project / "state")
    return await WorkerRuntime.open(
        config, store_url=paths.kv_url, do_store_url=paths.do_url, state_dir=paths.root,
        clock=clock, vars_override={"NOW_MS": str(int(clock.now() * 1000))},
    )


async def test_overdue_alarm_fires_on_restart(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(WRANGLER)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(textwrap.dedent(ENTRY))
    clock = FakeClock(1_000_000.0)

    runtime = await _open(tmp_path, clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.asgi_app),
                                 base_url="http://alarms.test") as http:
        assert (await http.get("/set")).text == "set"
        assert (await http.get("/count")).text == "0"
    await runtime.close()  # stopped before the alarm is due

    clock.advance(3600)  # an hour passes while nothing runs
    runtime = await _open(tmp_path, clock)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.asgi_app),
                                     base_url="http://alarms.test") as http:
            for _ in range(100):  # start() fires overdue alarms in the background
                if (await http.get("/count")).text == "1":
                    break
                await asyncio.sleep(0.02)
            assert (await http.get("/count")).text == "1"
    finally:
        await runtime.close()
