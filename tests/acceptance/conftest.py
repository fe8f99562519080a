"""A live edgekv API server over real HTTP, for the real clients (the ``cloudflare`` SDK,
wrangler, schemathesis) to drive.

The server runs in its own process on a free port, over a SQLite store in a temporary
folder; an account and a read-write token are created in that store first (the way
``edgekv account create`` / ``edgekv token create`` do), so every request carries a real
credential that the server checks.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from edgekv.accounts import AccountRegistry
from edgekv.storage import open_store

# The server process: the same app `edgekv serve` runs without a Worker (the API at
# /client/v4 and /cdn-cgi/edgekv/client/v4, a credential always required).
_SERVER = """
import sys, uvicorn
from edgekv.server.management import ManagementPaths, api_context, not_found_app
from edgekv.storage import open_store
store = open_store("sqlite:///" + sys.argv[1])
app = ManagementPaths(not_found_app, api_context(store, open_without_credential=False),
                      api_at_root=True)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def missing(what: str) -> None:
    """Fail in CI (where ``.ci/run`` installs every tool), skip elsewhere, saying why."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must provide it: scripts/test.sh installs the test tools)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A running server: ``base_url`` ends in ``/client/v4``; ``token`` is a read-write token
    of ``account``; ``email``/``api_key`` the account's global API key."""

    url: str
    account: str
    token: str
    email: str
    api_key: str
    db: Path

    @property
    def base_url(self) -> str:
        return f"{self.url}/client/v4"

    def token_for(self, **options: object) -> str:
        """Another token of the account (``read_only=True``, ``namespaces=(...)``...)."""
        return asyncio.run(_create_token(self.db, self.account, options))

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """A request under ``/client/v4`` with the read-write token."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, self.base_url + path, headers=headers, timeout=30,
                             **kwargs)  # type: ignore[arg-type]

    def ns_path(self, namespace_id: str = "") -> str:
        path = f"/accounts/{self.account}/storage/kv/namespaces"
        return f"{path}/{namespace_id}" if namespace_id else path


async def _create_account(db: Path) -> tuple[str, str, str, str]:
    store = open_store(f"sqlite:///{db}")
    try:
        registry = AccountRegistry(store)
        email = "acceptance@example.com"
        created = await registry.create_account("acceptance", email=email)
        token = await registry.create_token(created.account.id, name="acceptance")
        assert created.api_key is not None
        return created.account.id, token.secret, email, created.api_key
    finally:
        await store.close()


async def _create_token(db: Path, account: str, options: dict[str, object]) -> str:
    store = open_store(f"sqlite:///{db}")
    try:
        return (await AccountRegistry(store).create_token(account, **options)).secret  # type: ignore[arg-type]
    finally:
        await store.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live-api")
    db = folder / "kv.sqlite3"
    account, token, email, api_key = asyncio.run(_create_account(db))
    port = free_port()
    log = open(folder / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, str(db), str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the API server exited: {(folder / 'server.log').read_text()}")
            try:
                httpx.get(f"{url}/client/v4/user/tokens/verify", timeout=2,
                          headers={"Authorization": f"Bearer {token}"}).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    pytest.fail("the API server did not answer within 30 s")
                time.sleep(0.1)
        yield LiveServer(url, account, token, email, api_key, db)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
