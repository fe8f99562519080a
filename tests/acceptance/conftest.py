"""A live ``edgekv serve`` over real HTTP, for the real clients (the ``cloudflare`` SDK,
wrangler, schemathesis) to drive.

The server is the ``edgekv serve`` command (API only: ``/client/v4`` and
``/cdn-cgi/edgekv/client/v4``, a credential always required) on a free port, over a state
folder in a temporary directory. Its account, global API key and tokens are made with
``edgekv account create`` and ``edgekv token create`` on that folder, as a user would.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

_SCRIPT = Path(sys.executable).with_name("edgekv")
EDGEKV = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "edgekv"]


def edgekv(*args: str) -> str:
    """Run an edgekv command; its stdout (it must succeed)."""
    done = subprocess.run([*EDGEKV, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, check=False)  # asserted with its output
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def shown_once(output: str) -> str:
    """The secret an ``account create --email`` / ``token create`` printed (indented line)."""
    found = re.search(r"\(shown once, store it now\):\n\s+(\S+)", output)
    assert found is not None, output
    return found.group(1)


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
    state: Path

    @property
    def base_url(self) -> str:
        return f"{self.url}/client/v4"

    def token_for(self, *options: str) -> str:
        """Another token of the account (``"--read-only"``, ``"--namespace", ID``...)."""
        return shown_once(edgekv("token", "create", "--account", self.account,
                                 "--persist-to", str(self.state), *options))

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """A request under ``/client/v4`` with the read-write token."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, self.base_url + path, headers=headers, timeout=30,
                             **kwargs)  # type: ignore[arg-type]

    def ns_path(self, namespace_id: str = "") -> str:
        path = f"/accounts/{self.account}/storage/kv/namespaces"
        return f"{path}/{namespace_id}" if namespace_id else path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live-api")
    state = folder / "state"
    email = "acceptance@example.com"
    created = edgekv("account", "create", "--name", "acceptance", "--email", email,
                     "--persist-to", str(state))
    found = re.search(r"Created account ([0-9a-f]{32})", created)
    assert found is not None, created
    account, api_key = found.group(1), shown_once(created)
    token = shown_once(edgekv("token", "create", "--account", account, "--name", "acceptance",
                              "--persist-to", str(state)))
    port = free_port()
    with open(folder / "server.log", "wb") as log:  # closed once the server has ended
        proc = subprocess.Popen([*EDGEKV, "serve", "--persist-to", str(state), "--port", str(port),
                                 "--log-level", "warn"],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"edgekv serve exited: {(folder / 'server.log').read_text()}")
                try:
                    httpx.get(f"{url}/client/v4/user/tokens/verify", timeout=2,
                              headers={"Authorization": f"Bearer {token}"}).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        pytest.fail("edgekv serve did not answer within 30 s")
                    time.sleep(0.1)
            yield LiveServer(url, account, token, email, api_key, state)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
