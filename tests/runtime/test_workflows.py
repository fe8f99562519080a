"""Local Workflows and D1 through a real WorkerRuntime (config -> env -> state files).

Our own Workers in the shape of python-workers-examples 10-workflows (DAG of decorated
steps with depends/concurrent, create()/get()/status()) and 04-query-d1 (env.DB.all()).
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime

CONFIG = """\
name = "s"
main = "src/entry.py"
compatibility_flags = ["python_workers"]
[[d1_databases]]
binding = "DB"
database_name = "quotes"
database_id = "abc"
[[workflows]]
name = "wf"
binding = "WF"
class_name = "Dag"
"""

ENTRY = textwrap.dedent("""
    from workers import Response, WorkerEntrypoint, WorkflowEntrypoint

    class Dag(WorkflowEntrypoint):
        async def run(self, event, step):
            @step.do("one")
            async def one():
                return 1

            @step.do("two")
            async def two():
                return 2

            @step.do("sum", depends=[one, two], concurrent=True)
            async def total(a, b):
                return a + b

            return await total()

    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            await self.env.DB.exec("CREATE TABLE IF NOT EXISTS q (quote TEXT, author TEXT);")
            await self.env.DB.prepare("INSERT INTO q VALUES (?, ?)").bind("hi", "me").run()
            results = await self.env.DB.prepare("SELECT quote, author FROM q LIMIT 1").all()
            return Response.json(results.results[0])
""")


async def test_d1_and_workflow_examples_run(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    runtime = await WorkerRuntime.open(load_config(tmp_path / "wrangler.toml"))
    try:
        response = await runtime.fetch("http://localhost/")
        assert response.status == 200
        assert await response.json() == {"quote": "hi", "author": "me"}
        created = await runtime.env.WF.create()
        for _ in range(100):
            status = await (await runtime.env.WF.get(created.id)).status()
            if status["status"] == "complete":
                break
            await asyncio.sleep(0.02)
        assert status == {"status": "complete", "error": None, "output": 3}
    finally:
        await runtime.close()
    state = tmp_path / ".edgekv"
    assert (state / "d1" / "abc.sqlite3").exists() and (state / "workflows.sqlite3").exists()
