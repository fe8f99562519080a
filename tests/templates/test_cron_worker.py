"""A cron Worker under a real ``edgekv dev --test-scheduled``.

Stands for python-workers-examples ``08-cron`` (``triggers.crons`` in ``wrangler.jsonc`` with
a comment, ``scheduled(self, controller, env, ctx)`` printing, and ``async def fetch(self)``).
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.templates.conftest import DevServer

ENTRY = """\
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        print(f"Scheduled task ran for {controller.cron}", flush=True)

    async def fetch(self):
        return Response("Hello from a Cron Worker")
"""

CONFIG = """\
{
  "name": "python-cron",
  "main": "src/entry.py",
  "compatibility_date": "2025-11-02",
  "compatibility_flags": ["python_workers"],
  "triggers": {
    "crons": ["*/1 * * * *"] // every minute
  }
}
"""


def test_cron_worker(tmp_path: Path, dev_server: Callable[..., DevServer]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "wrangler.jsonc").write_text(CONFIG)
    server = dev_server(tmp_path, "--test-scheduled")
    assert any("Cron triggers '*/1 * * * *' fire on schedule" in line for line in server.output)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/").text == "Hello from a Cron Worker"
        ran = http.get("/__scheduled", params={"cron": "*/1 * * * *"})
        assert (ran.status_code, ran.text) == (200, "Ran scheduled event")
        handler = http.get("/cdn-cgi/handler/scheduled", params={"cron": "0 * * * *"})
        assert (handler.status_code, handler.text) == (200, "ok")
    deadline = time.monotonic() + 10
    wanted = {"Scheduled task ran for */1 * * * *", "Scheduled task ran for 0 * * * *"}
    while wanted - set(server.output) and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            server.output.append(server.lines.get(timeout=0.2))
    assert wanted <= set(server.output)
