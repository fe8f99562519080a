"""Real v4 API servers in process (the edgekv API app over real SQLite stores, accounts and
tokens made with ``AccountRegistry``), a fault-injecting wrapper, and ``RemoteKV`` clients
reaching them through ``httpx.ASGITransport``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgekv.accounts import AccountRegistry
from edgekv.client import RemoteKV, RemoteSettings
from edgekv.server.api import ApiContext, Authenticator
from edgekv.server.management import ManagementPaths, not_found_app
from edgekv.storage import Store, open_store

BASE_URL = "http://kv.test/client/v4"


@dataclass
class Seen:
    """One request the API received: method, raw path (with query), body size."""

    method: str
    path: str
    body_bytes: int
    body: bytes = b""


@dataclass
class Faults:
    """An ASGI wrapper that answers the next requests from ``plan`` (status, headers) before
    letting them reach the app, and records every request."""

    app: Any
    plan: list[tuple[Any, ...]] = field(default_factory=list)  # (status, headers[, body])
    seen: list[Seen] = field(default_factory=list)
    keep_bodies: bool = False
    ignore_page: bool = False  # act like a server that ignores ?page=

    async def __call__(self, scope: Any, receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        entry = Seen(scope["method"], (raw + (b"?" + query if query else b"")).decode("latin-1"), 0)
        self.seen.append(entry)
        chunks: list[bytes] = []
        more = True
        while more:  # read the whole body first, so its size is known and can be replayed
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        entry.body_bytes = len(body)
        if self.keep_bodies:
            entry.body = body
        if self.plan:
            status, headers, *raw = self.plan.pop(0)
            reply = raw[0] if raw else json.dumps(
                {"success": False, "errors": [{"code": 10000 + status, "message": "injected"}],
                 "messages": [], "result": None}).encode()
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    *((k.encode(), v.encode()) for k, v in headers.items())]})
            await send({"type": "http.response.body", "body": reply})
            return
        if self.ignore_page and query:
            kept = b"&".join(p for p in query.split(b"&") if not p.startswith(b"page="))
            scope = {**scope, "query_string": kept}
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        await self.app(scope, replay, send)


@dataclass
class Server:
    """One API server: its store, registry, an account with a read-write token, and the
    fault wrapper in front of it."""

    store: Store
    registry: AccountRegistry
    account: str
    token: str
    faults: Faults

    def settings(self, **changes: Any) -> RemoteSettings:
        values: dict[str, Any] = {"base_url": BASE_URL, "api_token": self.token, "account_id": self.account}
        values.update(changes)
        return RemoteSettings(**values)

    def client(self, settings: RemoteSettings | None = None, **options: Any) -> RemoteKV:
        """A ``RemoteKV`` to this server whose retry waits are recorded, not slept."""
        self.waits: list[float] = []

        async def no_sleep(seconds: float) -> None:
            self.waits.append(seconds)

        options.setdefault("sleep", no_sleep)
        return RemoteKV(settings or self.settings(), transport=httpx.ASGITransport(app=self.faults),
                        **options)


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[Callable[[str], Awaitable[Server]]]:
    stores: list[Store] = []

    async def make(name: str = "a") -> Server:
        store = open_store(f"sqlite:///{tmp_path / f'{name}.sqlite3'}")
        stores.append(store)
        registry = AccountRegistry(store)
        account = (await registry.create_account(name)).account
        token = await registry.create_token(account.id)
        ctx = ApiContext(store=store, registry=registry, authenticator=Authenticator(registry))
        app = ManagementPaths(not_found_app, ctx, api_at_root=True)
        return Server(store, registry, account.id, token.secret, Faults(app))

    yield make
    for store in stores:
        await store.close()


@pytest.fixture
async def server(make_server: Callable[[str], Awaitable[Server]]) -> Server:
    return await make_server("a")
