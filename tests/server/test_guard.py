"""`edgekv dev`'s open management paths are guarded against DNS rebinding and CSRF; the
Worker's own routes are not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.guard import LoopbackGuard
from edgekv.server.management import ManagementPaths, api_context, register_config_namespaces

TOML = 'name = "g"\nmain = "entry.py"\ncompatibility_flags = ["python_workers"]\n' \
       'kv_namespaces = [{ binding = "TODO", id = "todo-id" }]\n'
ENTRY = ("from workers import Response, WorkerEntrypoint\n\n"
         "class Default(WorkerEntrypoint):\n"
         "    async def fetch(self, request):\n"
         "        return Response(await self.env.TODO.get('k') or '-')\n")
API = "/cdn-cgi/edgekv/client/v4/accounts/edeed0000000000000000000000000c1/storage/kv/namespaces"


@pytest.fixture
async def dev_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    (tmp_path / "wrangler.toml").write_text(TOML)
    (tmp_path / "entry.py").write_text(ENTRY)
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    runtime = await WorkerRuntime.open(config, store_url="memory://")
    await register_config_namespaces(runtime.kv_store, config)
    app = ManagementPaths(runtime.asgi_app, api_context(runtime.kv_store, open_without_credential=True),
                          guard=LoopbackGuard(["192.168.1.20"]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1:8787") as client:
        yield client
    await runtime.close()


async def test_config_namespaces_are_listed_in_the_local_account(dev_client: httpx.AsyncClient) -> None:
    response = await dev_client.get(API)
    assert response.status_code == 200
    assert response.json()["result"] == [{"id": "todo-id", "title": "TODO", "supports_url_encoding": True}]


async def test_writes_through_the_api_are_what_the_worker_reads(dev_client: httpx.AsyncClient) -> None:
    assert (await dev_client.put(f"{API}/todo-id/values/k", content=b"from the API")).status_code == 200
    assert (await dev_client.get("/")).text == "from the API"


async def test_dns_rebinding_host_is_refused(dev_client: httpx.AsyncClient) -> None:
    for host in ("evil.example", "evil.example:8787", "127.0.0.1.evil.example"):
        response = await dev_client.put(f"{API}/todo-id/values/k", content=b"pwned", headers={"Host": host})
        assert response.status_code == 403, host
        assert response.text.startswith("edgekv: refused: the Host")
    assert (await dev_client.get("/")).text == "-"  # nothing was written
    # the Worker itself answers whatever Host it is sent
    assert (await dev_client.get("/", headers={"Host": "evil.example"})).status_code == 200


async def test_loopback_names_and_the_chosen_ip_pass(dev_client: httpx.AsyncClient) -> None:
    for host in ("localhost:8787", "127.0.0.1:8787", "[::1]:8787", "127.0.0.2", "192.168.1.20:8787",
                 "app.localhost:8787"):
        assert (await dev_client.get(API, headers={"Host": host})).status_code == 200, host


async def test_cross_origin_browser_requests_are_refused(dev_client: httpx.AsyncClient) -> None:
    cases = [{"Origin": "http://evil.example"}, {"Origin": "http://localhost:3000"},
             {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}]
    for headers in cases:
        response = await dev_client.put(f"{API}/todo-id/values/k", content=b"csrf", headers=headers)
        assert response.status_code == 403, headers
    assert (await dev_client.get("/")).text == "-"
    same = await dev_client.put(f"{API}/todo-id/values/k", content=b"ok",
                                headers={"Origin": "http://127.0.0.1:8787", "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200


def test_guard_unit() -> None:
    guard = LoopbackGuard(["0.0.0.0"])
    assert guard.refusal({}) == "a Host header is required"
    assert guard.refusal({"host": "0.0.0.0:8787"}) is not None  # a wildcard bind is not a name
    assert guard.refusal({"host": "LOCALHOST"}) is None
