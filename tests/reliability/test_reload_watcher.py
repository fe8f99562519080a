"""Attack: a save that makes the reload raise something other than a config error
(docs/reliability.md, "One clear line, never a traceback"). The watcher used to die silently
and never reload again; now it reports the error, keeps serving the last good Worker and
reloads the next save."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.dev import DevServer
from tests.server.test_dev_server import ENTRY, TOML


async def test_watcher_survives_any_exception_from_a_save(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edgekv")
    (tmp_path / "wrangler.toml").write_text(TOML)
    (tmp_path / "src").mkdir()
    entry = tmp_path / "src" / "entry.py"
    entry.write_text(ENTRY.replace("{word}", "one"))
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    state = config.state_paths()
    runtime = await WorkerRuntime.open(config, store_url=state.kv_url, do_store_url=state.do_url,
                                       state_dir=state.root)
    calls: list[int] = []

    def reload_config():  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:  # e.g. the config became unreadable mid-save
            raise PermissionError(13, "Permission denied", str(tmp_path / "wrangler.toml"))
        return load_config(tmp_path, cwd=tmp_path, environ={})

    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, reload_config=reload_config,
                       on_ready=ready.set_result, watch_paths=[tmp_path],
                       ignore_paths=[state.root], watch_debounce_ms=50)
    serving = asyncio.create_task(server.serve())
    try:
        url = await asyncio.wait_for(ready, 10)
        async with httpx.AsyncClient(base_url=url) as http:
            entry.write_text(ENTRY.replace("{word}", "two"))
            for _ in range(200):
                if "Reload failed" in caplog.text:
                    break
                await asyncio.sleep(0.05)
            assert "Reload failed (PermissionError: [Errno 13] Permission denied" in caplog.text
            assert (await http.get("/")).text == "one -"  # the last good version serves
            entry.write_text(ENTRY.replace("{word}", "three"))
            for _ in range(200):
                if (await http.get("/")).text == "three -":
                    break
                await asyncio.sleep(0.05)
            assert (await http.get("/")).text == "three -"
    finally:
        server.stop()
        await asyncio.wait_for(serving, 20)
