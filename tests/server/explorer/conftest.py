"""The explorer in process: ``examples/counter`` (copied) served by ``ManagementPaths``, the
way ``edgekv dev`` mounts it (open, Host/Origin guarded), or the way ``edgekv serve`` does
(tokens required)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgekv.accounts import AccountRegistry
from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.guard import LoopbackGuard
from edgekv.server.management import ManagementPaths, api_context, register_config_namespaces
from edgekv.storage import LOCAL_ACCOUNT_ID

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "counter"
X = "/cdn-cgi/edgekv/explorer/api"
V4 = "/cdn-cgi/edgekv/client/v4"
COUNTER_NS = "4fdb2e0a1c9b4e7e8d3f5a6b7c8d9e0f"


@dataclass
class Explorer:
    client: httpx.AsyncClient
    runtime: WorkerRuntime
    registry: AccountRegistry
    account: str
    headers: dict[str, str]

    def ns(self, namespace_id: str = COUNTER_NS) -> str:
        return f"{X}/accounts/{self.account}/namespaces/{namespace_id}"

    def v4(self, namespace_id: str = COUNTER_NS) -> str:
        return f"{V4}/accounts/{self.account}/storage/kv/namespaces/{namespace_id}"

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(url, headers={**self.headers, **kwargs.pop("headers", {})},
                                     **kwargs)

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)


MakeExplorer = Callable[..., Any]


@pytest.fixture
async def make_explorer(tmp_path: Path) -> AsyncIterator[MakeExplorer]:
    project = tmp_path / "counter"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("tests", "__pycache__", ".edgekv"))
    config = load_config(project, cwd=project, environ={})
    state = config.state_paths()
    runtime = await WorkerRuntime.open(config, store_url=state.kv_url, do_store_url=state.do_url,
                                       state_dir=state.root)
    await register_config_namespaces(runtime.kv_store, config)
    clients: list[httpx.AsyncClient] = []

    async def factory(*, serve: bool = False) -> Explorer:
        ctx = api_context(runtime.kv_store, open_without_credential=not serve)
        guard = None if serve else LoopbackGuard(["127.0.0.1"])
        app = ManagementPaths(runtime.asgi_app, ctx, guard=guard, runtime=runtime)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://127.0.0.1:8787")
        clients.append(client)
        await ctx.registry.ensure_local_account()
        return Explorer(client, runtime, ctx.registry, LOCAL_ACCOUNT_ID, {})

    yield factory
    for client in clients:
        await client.aclose()
    await runtime.close()


@pytest.fixture
async def dev(make_explorer: MakeExplorer) -> Explorer:
    """``edgekv dev``'s explorer: open, no credential."""
    return await make_explorer()  # type: ignore[no-any-return]
