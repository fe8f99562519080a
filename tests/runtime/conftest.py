"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from edgekv.clock import FakeClock
from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime

OpenProject = Callable[[dict[str, str]], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def worker_project(tmp_path: Path) -> AsyncIterator[OpenProject]:
    """``await worker_project({path: text, ...})``: write the project files (``wrangler.toml``
    among them) into ``tmp_path``, open a ``WorkerRuntime`` on ``memory://`` with a fake
    clock, and return an httpx client bound to its ASGI app. Everything is closed after."""
    runtimes: list[WorkerRuntime] = []
    clients: list[httpx.AsyncClient] = []

    async def open_project(files: dict[str, str]) -> httpx.AsyncClient:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        runtime = await WorkerRuntime.open(load_config(tmp_path), store_url="memory://",
                                           clock=FakeClock())
        runtimes.append(runtime)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.asgi_app),
                                   base_url="http://worker.test")
        clients.append(client)
        return client

    yield open_project
    for client in clients:
        await client.aclose()
    for runtime in runtimes:
        await runtime.close()
