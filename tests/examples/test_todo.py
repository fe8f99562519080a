"""examples/todo: the seed Worker, reading data written the way `edgekv kv key put` writes it."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import httpx

from edgekv.client import LocalKV
from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "todo"
TODO_ID = "06779da6940b431db6e566b4846d64db"


async def test_todo_reads_what_the_cli_store_holds(tmp_path: Path) -> None:
    config = load_config(EXAMPLE)
    state = config.state_paths(tmp_path / "state")
    async with LocalKV(state.kv_url) as local:
        await local.namespace(config.kv_namespaces[0].local_id(preview=True)).put(
            "to-do:123", "buy milk"
        )
    runtime = await WorkerRuntime.open(
        config, store_url=state.kv_url, do_store_url=state.do_url, state_dir=state.root
    )
    try:
        transport = httpx.ASGITransport(app=runtime.asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://todo.test") as http:
            response = await http.get("/")
        assert (response.status_code, response.text) == (200, "buy milk")
        assert runtime.env.TODO.namespace_id == TODO_ID
    finally:
        await runtime.close()


async def test_todo_missing_value_is_an_empty_body() -> None:
    runtime = await WorkerRuntime.open(load_config(EXAMPLE), store_url="memory://")
    try:
        response = await runtime.fetch("http://todo.test/")
        assert response.status == 200
        assert await response.text() == ""
    finally:
        await runtime.close()


async def test_legacy_on_fetch_version_of_todo(tmp_path: Path) -> None:
    """The 2024-era style of the same Worker: module-level on_fetch, `from js import`."""
    shutil.copy(EXAMPLE / "wrangler.toml", tmp_path / "wrangler.toml")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(textwrap.dedent("""
        from js import Response

        async def on_fetch(request, env):
            return Response.new(await env.TODO.get("to-do:123"))
    """))
    runtime = await WorkerRuntime.open(load_config(tmp_path), store_url="memory://")
    try:
        await runtime.env.TODO.put("to-do:123", "legacy milk")
        response = await runtime.fetch("http://todo.test/")
        assert await response.text() == "legacy milk"
    finally:
        await runtime.close()
