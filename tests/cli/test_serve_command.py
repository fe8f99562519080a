"""`edgekv serve` as a real subprocess: credentials required, tokens created and revoked by
the CLI while it runs, TLS, the Worker with a plain 500, graceful stop."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.test_dev_command import EDGEKV, DevProcess, free_port


class ServeProcess(DevProcess):
    def __init__(self, *args: str, cwd: Path) -> None:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*EDGEKV, "serve", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        )
        import queue
        import threading

        self.lines = []
        self._queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()


@pytest.fixture
def start_serve() -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def start(*args: str, cwd: Path) -> ServeProcess:
        process = ServeProcess(*args, cwd=cwd)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def edgekv(cwd: Path, *args: str) -> str:
    done = subprocess.run([*EDGEKV, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def account_and_token(cwd: Path, *extra: str) -> tuple[str, str]:
    out = edgekv(cwd, "account", "create", "--name", "t")
    account = re.search(r"[0-9a-f]{32}", out).group(0)  # type: ignore[union-attr]
    out = edgekv(cwd, "token", "create", "--account", account, *extra)
    secret = out.split("store it now):\n")[1].split("\n")[0].strip()
    return account, secret


def test_serve_requires_tokens_and_sees_cli_changes_at_once(
    tmp_path: Path, start_serve: Callable[..., ServeProcess]
) -> None:
    account, secret = account_and_token(tmp_path)
    port = free_port()
    server = start_serve("--port", str(port), cwd=tmp_path)
    server.wait_for("Ready on")
    base = f"http://127.0.0.1:{port}/client/v4/accounts/{account}/storage/kv/namespaces"
    with httpx.Client(timeout=10) as client:
        assert client.get(base).status_code == 403
        headers = {"Authorization": f"Bearer {secret}"}
        ns = client.post(base, json={"title": "t"}, headers=headers).json()["result"]["id"]
        assert client.put(f"{base}/{ns}/values/k", content=b"v", headers=headers).status_code == 200
        prefixed = base.replace("/client/v4", "/cdn-cgi/edgekv/client/v4")
        assert client.get(f"{prefixed}/{ns}/values/k", headers=headers).content == b"v"
        # a token created while the server runs works at once...
        _, second = account_and_token(tmp_path)
        other_headers = {"Authorization": f"Bearer {second}"}
        assert client.get("/".join(base.split("/")[:5]) + "/user/tokens/verify",
                          headers=other_headers).status_code == 200
        # ...and a revoked one is refused at once
        token_id = re.search(r"token ([0-9a-f]{32})", edgekv(tmp_path, "token", "create",
                                                              "--account", account)).group(1)  # type: ignore[union-attr]
        listed = edgekv(tmp_path, "token", "list", "--account", account)
        assert token_id in listed
        edgekv(tmp_path, "token", "revoke", token_id)
        first_id = next(line for line in listed.splitlines() if '"id"' in line).split('"')[3]
        edgekv(tmp_path, "token", "revoke", first_id)
        assert client.get(base, headers=headers).status_code == 403
    assert server.interrupt() == 0
    assert "Traceback" not in "\n".join(server.lines)


def test_serve_with_tls(tmp_path: Path, start_serve: Callable[..., ServeProcess]) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    account, secret = account_and_token(tmp_path)
    port = free_port()
    server = start_serve("--port", str(port), "--tls-cert", str(cert_path), "--tls-key",
                         str(key_path), cwd=tmp_path)
    server.wait_for("Ready on https://127.0.0.1")
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca_path)), timeout=10) as client:
        url = f"https://127.0.0.1:{port}/client/v4/accounts/{account}/storage/kv/namespaces"
        response = client.get(url, headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200 and response.json()["result"] == []
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=20) == 0


def test_tls_flags_go_together(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("x")
    done = subprocess.run([*EDGEKV, "serve", "--tls-cert", str(tmp_path / "c.pem")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "--tls-cert and --tls-key go together" in done.stderr


def test_serve_worker_answers_plain_500_and_its_api(tmp_path: Path,
                                                    start_serve: Callable[..., ServeProcess]) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nmain = "entry.py"\ncompatibility_flags = ["python_workers"]\n'
        'kv_namespaces = [{ binding = "KV", id = "kv-one" }]\n')
    (tmp_path / "entry.py").write_text(
        "from workers import Response, WorkerEntrypoint\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        if request.url.endswith('/boom'):\n"
        "            raise RuntimeError('secret detail')\n"
        "        return Response(await self.env.KV.get('k') or '-')\n")
    account, secret = account_and_token(tmp_path)
    port = free_port()
    server = start_serve(".", "--port", str(port), cwd=tmp_path)
    server.wait_for("Ready on")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        boom = client.get("/boom")
        assert boom.status_code == 500 and boom.text == "Internal Server Error"
        assert "secret detail" not in boom.text
        # the config's namespace is in the local account, not reachable with another account's token
        api = f"/cdn-cgi/edgekv/client/v4/accounts/{account}/storage/kv/namespaces"
        assert client.get(api, headers={"Authorization": f"Bearer {secret}"}).json()["result"] == []
        assert client.get("/client/v4/accounts").text == "-"  # the Worker's route, not the API
    server.wait_for("secret detail")  # the traceback is in the log
    assert server.interrupt() == 0



def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path,
                                                start_serve: Callable[..., ServeProcess]) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nmain = "entry.py"\ncompatibility_flags = ["python_workers"]\n')
    (tmp_path / "entry.py").write_text(
        "import asyncio\nfrom workers import Response, WorkerEntrypoint\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        await asyncio.sleep(1.5)\n"
        "        return Response('finished')\n")
    port = free_port()
    server = start_serve(".", "--port", str(port), cwd=tmp_path)
    server.wait_for("Ready on")
    import concurrent.futures
    import time

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.get, f"http://127.0.0.1:{port}/", timeout=20)
        time.sleep(0.5)  # the request is in the Worker now
        server.proc.send_signal(signal.SIGTERM)
        response = pending.result(timeout=20)
    assert response.status_code == 200 and response.text == "finished"
    assert server.proc.wait(timeout=20) == 0
    server.wait_for_end()
    assert "Traceback" not in "\n".join(server.lines)


def test_a_second_server_on_the_same_state_is_refused(tmp_path: Path,
                                                      start_serve: Callable[..., ServeProcess]) -> None:
    port = free_port()
    first = start_serve("--port", str(port), cwd=tmp_path)
    first.wait_for("Ready on")
    done = subprocess.run([*EDGEKV, "serve", "--port", str(free_port())], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert str(first.proc.pid) in done.stderr and f"127.0.0.1:{port}" in done.stderr
    assert first.interrupt() == 0
