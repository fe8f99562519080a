"""examples/counter: Durable Objects (SQLite storage) and a DO reading KV."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "counter"


async def open_counter(state: Path) -> WorkerRuntime:
    config = load_config(EXAMPLE)
    paths = config.state_paths(state)
    return await WorkerRuntime.open(
        config, store_url=paths.kv_url, do_store_url=paths.do_url, state_dir=paths.root
    )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[WorkerRuntime]:
    runtime = await open_counter(tmp_path / "state")
    yield runtime
    await runtime.close()


def client(runtime: WorkerRuntime) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=runtime.asgi_app)
    return httpx.AsyncClient(transport=transport, base_url="http://counter.test")


async def test_counter_increments_per_name(runtime: WorkerRuntime) -> None:
    async with client(runtime) as http:
        seen = [(await http.get(path)).text for path in
                ("/counter/a", "/counter/a", "/counter/b", "/counter/a")]
        missing = await http.get("/elsewhere")
    assert seen == ["1", "2", "1", "3"]
    assert missing.status_code == 404


async def test_durable_object_reads_kv(runtime: WorkerRuntime) -> None:
    await runtime.env.NAMESPACE.put("someKey", "value from KV")
    async with client(runtime) as http:
        response = await http.get("/kv-object")
    assert (response.status_code, response.text) == (200, "value from KV")


async def test_concurrent_requests_to_one_counter_are_exact(runtime: WorkerRuntime) -> None:
    async with client(runtime) as http:
        responses = await asyncio.gather(*(http.get("/counter/hot") for _ in range(100)))
        final = await http.get("/counter/hot")
    assert sorted(int(r.text) for r in responses) == list(range(1, 101))
    assert final.text == "101"


async def test_counts_persist_across_close_and_reopen(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = await open_counter(state)
    async with client(first) as http:
        for _ in range(3):
            await http.get("/counter/kept")
    await first.close()
    assert list((state / "do").rglob("*.sqlite3")), "SQLite-backed objects live under <state>/do/"

    second = await open_counter(state)
    try:
        async with client(second) as http:
            assert (await http.get("/counter/kept")).text == "4"
    finally:
        await second.close()


async def test_counts_survive_reload(runtime: WorkerRuntime) -> None:
    async with client(runtime) as http:
        await http.get("/counter/r")
        assert await runtime.reload() is None
        assert (await http.get("/counter/r")).text == "2"
