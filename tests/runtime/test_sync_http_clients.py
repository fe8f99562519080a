"""Blocking HTTP clients (requests, urllib3, httpx.Client) inside a Worker.

Stands for python-workers-examples ``16-sync-http-clients``, against a local threaded
server instead of example.com (CI has no internet).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime

ENTRY = """\
import httpx
import requests
import urllib3
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        target = self.env.TARGET
        first = requests.get(target, timeout=10)
        pool = urllib3.PoolManager()
        second = pool.request("GET", target, timeout=10.0)
        with httpx.Client() as client:
            third = client.get(target, timeout=10.0)
        return Response.json([
            [first.status_code, "Example Domain" in first.text],
            [second.status, "Example Domain" in second.data.decode()],
            [third.status_code, "Example Domain" in third.text],
        ])
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<h1>Example Domain</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


async def test_sync_clients_work_in_a_worker(tmp_path: Path, target: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "wrangler.toml").write_text(
        'name = "sync"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n'
        f'vars = {{ TARGET = "{target}" }}\n')
    runtime = await WorkerRuntime.open(load_config(tmp_path, cwd=tmp_path, environ={}),
                                       store_url="memory://")
    try:
        transport = httpx.ASGITransport(app=runtime.asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
            response = await client.get("/sync")
        assert json.loads(response.text) == [[200, True], [200, True], [200, True]]
    finally:
        await runtime.close()
