"""A real edgekv v4 API server over HTTP for CLI tests: uvicorn in a thread, serving the
API app (``/client/v4``) over its own SQLite store, with an account and a read-write token
made with ``AccountRegistry``. ``edgekv kv … --remote`` reaches it through
``CLOUDFLARE_API_BASE_URL`` exactly as it would reach ``edgekv serve``."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from edgekv.accounts import AccountRegistry
from edgekv.server.management import ManagementPaths, api_context, not_found_app
from edgekv.storage import open_store
from tests.cli.test_dev_command import free_port

__all__ = ["LiveApi"]


@dataclass
class LiveApi:
    """``start()`` it, use ``env`` (the CLOUDFLARE_* variables for it), ``stop()`` it."""

    folder: Path
    account: str = ""
    token: str = ""
    port: int = 0
    _server: Any = None
    _thread: threading.Thread | None = None
    _errors: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder / 'kv.sqlite3'}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    @property
    def env(self) -> dict[str, str]:
        return {"CLOUDFLARE_API_BASE_URL": self.base_url, "CLOUDFLARE_API_TOKEN": self.token,
                "CLOUDFLARE_ACCOUNT_ID": self.account}

    def start(self) -> LiveApi:
        self.folder.mkdir(parents=True, exist_ok=True)

        async def credentials() -> None:
            store = open_store(self.url)
            try:
                registry = AccountRegistry(store)
                account = (await registry.create_account(self.folder.name)).account
                self.account = account.id
                self.token = (await registry.create_token(account.id)).secret
            finally:
                await store.close()

        asyncio.run(credentials())
        self.port = free_port()

        async def serve() -> None:
            store = open_store(self.url)
            app = ManagementPaths(not_found_app, api_context(store, open_without_credential=False),
                                  api_at_root=True)
            config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                    lifespan="off")
            self._server = uvicorn.Server(config)
            try:
                await self._server.serve()
            finally:
                await store.close()

        def run() -> None:
            try:
                asyncio.run(serve())
            except BaseException as exc:  # noqa: BLE001 - reported by stop(); uvicorn ends a
                # failed start with SystemExit, which would otherwise die silently in the thread
                self._errors.append(exc)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not (self._server is not None and self._server.started):
            if self._errors or time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not start: {self._errors}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=20)
        assert not self._errors, self._errors
