"""An in-process API over a real SQLite store, with an account and tokens to use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from edgekv.accounts import AccountRegistry
from edgekv.clock import FakeClock
from edgekv.server.api import ApiContext, Authenticator
from edgekv.server.management import ManagementPaths, not_found_app
from edgekv.storage import Store, open_store


@dataclass
class Api:
    """A running API: ``client`` (no credential), ``auth`` headers of a read-write token of
    ``account``, ``base`` (the account's namespaces URL)."""

    store: Store
    registry: AccountRegistry
    ctx: ApiContext
    client: httpx.AsyncClient
    account: str
    token: str
    clock: FakeClock

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def base(self) -> str:
        return f"/client/v4/accounts/{self.account}/storage/kv/namespaces"

    async def namespace(self, title: str = "ns") -> str:
        response = await self.client.post(self.base, json={"title": title}, headers=self.auth)
        assert response.status_code == 200, response.text
        return str(response.json()["result"]["id"])


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    clock = FakeClock(1_800_000_000.0)
    store = open_store(f"sqlite:///{tmp_path / 'kv.sqlite3'}", clock=clock)
    registry = AccountRegistry(store)
    account = (await registry.create_account("test")).account
    token = await registry.create_token(account.id)
    ctx = ApiContext(store=store, registry=registry, authenticator=Authenticator(registry))
    app = ManagementPaths(not_found_app, ctx, api_at_root=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield Api(store, registry, ctx, client, account.id, token.secret, clock)
    await store.close()
