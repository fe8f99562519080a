"""DevServer in process on a free port: ready callback, real HTTP, reload, stop."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from edgekv.config import load_config
from edgekv.errors import ConfigError
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.dev import DevServer, display_url, resolve_host

TOML = """\
name = "srv"
main = "src/entry.py"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "KV", id = "kv" }]
"""
ENTRY = """\
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("{word} " + (await self.env.KV.get("k") or "-"))
"""


def test_host_and_url() -> None:
    assert resolve_host("localhost") == "127.0.0.1"
    assert resolve_host("*") == "0.0.0.0"
    assert resolve_host("[::1]") == "::1"
    assert display_url("127.0.0.1", 8787) == "http://127.0.0.1:8787"
    assert display_url("::1", 80) == "http://[::1]:80"


async def test_serves_reloads_and_stops(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edgekv")
    (tmp_path / "wrangler.toml").write_text(TOML)
    (tmp_path / "src").mkdir()
    entry = tmp_path / "src" / "entry.py"
    entry.write_text(ENTRY.replace("{word}", "one"))
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    state = config.state_paths()
    runtime = await WorkerRuntime.open(config, store_url=state.kv_url, do_store_url=state.do_url,
                                       state_dir=state.root)
    await runtime.env.KV.put("k", "kept")
    fail_config = False

    def reload_config():  # type: ignore[no-untyped-def]
        if fail_config:
            raise ConfigError("✘ [ERROR] broken config", None)  # type: ignore[arg-type]
        return load_config(tmp_path, cwd=tmp_path, environ={})

    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, reload_config=reload_config,
                       on_ready=ready.set_result)
    serving = asyncio.create_task(server.serve())
    url = await asyncio.wait_for(ready, 10)
    async with httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/")).text == "one kept"
        entry.write_text(ENTRY.replace("{word}", "two"))
        assert await server.reload() is True
        assert (await http.get("/")).text == "two kept"
        fail_config = True
        entry.write_text(ENTRY.replace("{word}", "three"))
        assert await server.reload() is False  # bad config: the running Worker stays
        assert (await http.get("/")).text == "two kept"
    server.stop()
    await asyncio.wait_for(serving, 10)
    assert runtime.closed
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("GET / 200 OK (") for m in messages)
    assert "Local server updated and ready" in messages
    assert any("keeping the running Worker" in m for m in messages)


async def test_port_in_use_is_an_oserror_and_closes_runtime(tmp_path: Path) -> None:
    import socket

    (tmp_path / "wrangler.toml").write_text(TOML)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    runtime = await WorkerRuntime.open(load_config(tmp_path, cwd=tmp_path, environ={}),
                                       store_url="memory://")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DevServer(runtime, host="127.0.0.1", port=taken.getsockname()[1])
        with pytest.raises(OSError):
            await server.serve()
    assert runtime.closed
