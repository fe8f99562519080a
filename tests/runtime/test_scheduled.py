"""``scheduled(controller, env, ctx)``: on demand through the runtime, the Cloudflare route
``/cdn-cgi/handler/scheduled`` (Miniflare ``core/scheduled.ts``) and wrangler's
``/__scheduled`` (``dev --test-scheduled``, ``middleware-scheduled.ts``).

Stands for python-workers-examples ``08-cron`` (a ``Default`` with ``scheduled`` and a
relaxed ``async def fetch(self)``) and the workers-py SDK test reading
``controller.scheduledTime`` and ``controller.cron``.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from edgekv.clock import FakeClock
from edgekv.config import load_config
from edgekv.runtime.worker import NO_SCHEDULED_HANDLER, WorkerRuntime

TOML = """\
name = "cron"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "KV", id = "kv" }]
[triggers]
crons = ["*/1 * * * *"]
"""

ENTRY = """\
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        print("Scheduled task has been executed.")
        await env.KV.put("last", f"{controller.cron}|{controller.scheduledTime}")
        if controller.cron == "fail":
            raise ValueError("boom")
        if controller.cron == "noretry":
            controller.noRetry()

    async def fetch(self):
        return Response("Hello from Cron Worker")
"""

LEGACY = """\
from js import Response

async def on_scheduled(event, env, ctx):
    await env.KV.put("last", "legacy " + event.cron)

async def on_fetch(request, env):
    return Response.new("legacy")
"""

Open = Callable[..., Awaitable[WorkerRuntime]]


@pytest.fixture
async def open_runtime(tmp_path: Path) -> AsyncIterator[Open]:
    opened: list[WorkerRuntime] = []

    async def factory(entry: str = ENTRY) -> WorkerRuntime:
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / "src" / "entry.py").write_text(textwrap.dedent(entry))
        (tmp_path / "wrangler.toml").write_text(TOML)
        runtime = await WorkerRuntime.open(load_config(tmp_path), store_url="memory://",
                                           clock=FakeClock(1_800_000_000.0))
        opened.append(runtime)
        return runtime

    yield factory
    for runtime in opened:
        await runtime.close()


def client(runtime: WorkerRuntime) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.asgi_app),
                             base_url="http://localhost")


async def test_scheduled_runs_with_controller(open_runtime: Open,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    runtime = await open_runtime()
    outcome = await runtime.scheduled("*/1 * * * *")
    assert outcome.outcome == "ok" and outcome.no_retry is False
    assert await runtime.env.KV.get("last") == "*/1 * * * *|1800000000000"
    assert "Scheduled task has been executed." in capsys.readouterr().out
    when = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
    await runtime.scheduled("0 * * * *", when)
    assert await runtime.env.KV.get("last") == f"0 * * * *|{int(when.timestamp() * 1000)}"
    assert (await runtime.scheduled("noretry")).no_retry is True
    with pytest.raises(ValueError, match="boom"):
        await runtime.scheduled("fail")


async def test_cdn_cgi_handler_scheduled_route(open_runtime: Open) -> None:
    runtime = await open_runtime()
    async with client(runtime) as http:
        ok = await http.get("/cdn-cgi/handler/scheduled", params={"cron": "*/5 * * * *",
                                                                  "time": "1700000000000"})
        assert (ok.status_code, ok.text) == (200, "ok")
        assert await runtime.env.KV.get("last") == "*/5 * * * *|1700000000000"
        failed = await http.get("/cdn-cgi/handler/scheduled?cron=fail")
        assert (failed.status_code, failed.text) == (500, "exception")
        as_json = await http.get("/cdn-cgi/handler/scheduled?cron=noretry&format=json")
        assert as_json.json() == {"outcome": "ok", "noRetry": True}
        # /__scheduled is the Worker's own path unless dev --test-scheduled is on
        assert (await http.get("/__scheduled")).text == "Hello from Cron Worker"
        runtime.test_scheduled = True
        ran = await http.get("/__scheduled?cron=*/1+*+*+*+*")
        assert (ran.status_code, ran.text) == (200, "Ran scheduled event")
        assert (await runtime.env.KV.get("last")).startswith("*/1 * * * *|")


async def test_legacy_on_scheduled(open_runtime: Open) -> None:
    runtime = await open_runtime(LEGACY)
    await runtime.scheduled("0 0 * * *")
    assert await runtime.env.KV.get("last") == "legacy 0 0 * * *"


async def test_worker_without_scheduled_handler(open_runtime: Open) -> None:
    runtime = await open_runtime("""\
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self):
                return Response("x")
        """)
    with pytest.raises(TypeError, match=re.escape(NO_SCHEDULED_HANDLER)):
        await runtime.scheduled("* * * * *")
    async with client(runtime) as http:
        response = await http.get("/cdn-cgi/handler/scheduled")
        assert (response.status_code, response.text) == (500, "exception")
