"""The request path's shortcuts (bench/http.py's floor work) give the general path's results.

- ``Response("text")`` / ``Response(b"..", status=404)`` / ``Response()`` take a fast
  constructor: same status, headers and body as the general one; what the general path
  rejects (a body on 204, status 99) is still rejected with the same error.
- ``env.KV.get("key")`` takes a fast path: the same values, and the same errors for bad keys.
- edgekv's own answers (``/cdn-cgi/edgekv/health``, the REST API) get exactly one ``Date``
  from ``ManagementPaths``; the Worker's answers get theirs from the runtime, not doubled.
- ``edgekv dev``'s logging skips caller/thread lookups but still prints the same lines.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgekv.config import load_config
from edgekv.errors import KVTypeError
from edgekv.runtime.web.body import extract_body
from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.response import Response
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.access import AccessLog
from edgekv.server.management import ManagementPaths, api_context

ENTRY = """\
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        value = await self.env.KV.get("k")
        return Response(value or "none")
"""


@pytest.mark.parametrize("body", ["héllo", b"\x00bytes", None, ""])
@pytest.mark.parametrize("status", [None, 200, 404, 599])
async def test_fast_response_matches_the_general_constructor(body: Any, status: Any) -> None:
    fast = Response(body, status=status)
    # The general path, forced by an explicit empty headers argument.
    general = Response(body, status=status, headers={})
    assert fast.status == general.status
    assert fast.headers.items() == general.headers.items()
    assert await fast.bytes() == await general.bytes()
    _, _, ctype = extract_body(body)
    assert (fast.headers.get("content-type") is None) == (ctype is None)


def test_fast_response_keeps_the_general_errors() -> None:
    with pytest.raises(TypeError, match=r"null body status \(204\) cannot have a body"):
        Response("x", status=204)
    with pytest.raises(ValueError, match="range 200 to 599"):
        Response("x", status=99)
    with pytest.raises(TypeError, match="Unsupported type in Response: dict"):
        Response({"a": 1})
    assert Response(None, status=204).status == 204
    headers = Response("x").headers
    headers.set("X-A", "1")  # the fast path's header list is the response's own
    assert Response("y").headers.items() == [("content-type", "text/plain;charset=UTF-8")]
    assert isinstance(Headers.from_pairs(None), Headers)


@pytest.fixture
async def runtime(tmp_path: Path) -> Any:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "wrangler.toml").write_text(
        'name = "hot"\nmain = "src/entry.py"\ncompatibility_date = "2026-11-01"\n'
        'compatibility_flags = ["python_workers"]\n'
        'kv_namespaces = [{ binding = "KV", id = "hot" }]\n'
    )
    rt = await WorkerRuntime.open(load_config(tmp_path), store_url=f"sqlite:///{tmp_path}/kv.db",
                                  state_dir=tmp_path / "state")
    yield rt
    await rt.close()


async def test_kv_get_fast_path_same_values_and_errors(runtime: WorkerRuntime) -> None:
    kv = runtime.env.KV
    await kv.put("k", "välue")
    assert await kv.get("k") == "välue" == await kv.get("k", "text") == await kv.get("k", {})
    assert await kv.get("missing") is None
    for bad, text in (("", "Key name cannot be empty."),
                      (".", '"." is not allowed as a key name.'),
                      ("..", '".." is not allowed as a key name.')):
        with pytest.raises(KVTypeError) as caught:
            await kv.get(bad)
        assert str(caught.value) == text


async def test_one_date_on_own_paths_and_worker_responses(runtime: WorkerRuntime) -> None:
    api = api_context(runtime.kv_store, open_without_credential=True)
    app = AccessLog(ManagementPaths(runtime.asgi_app, api, runtime=runtime))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for path in ("/cdn-cgi/edgekv/health", "/cdn-cgi/edgekv/nope",
                     "/cdn-cgi/edgekv/client/v4/accounts/x/storage/kv/namespaces", "/"):
            response = await client.get(path)
            dates = [v for k, v in response.headers.multi_items() if k == "date"]
            assert len(dates) == 1, (path, response.headers)
            assert dates[0].endswith(" GMT")
        assert (await client.get("/")).text == "none"


def test_dev_logging_prints_the_same_lines(capfd: pytest.CaptureFixture[str]) -> None:
    from edgekv.server import console

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.logThreads, logging.logProcesses,
             logging.logMultiprocessing, logging._srcfile)
    try:
        console.configure_logging("log")
        logging.getLogger("edgekv.dev").info("GET / 200 OK (0.10ms)")
        logging.getLogger("worker").warning("a %s line", "worker")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("edgekv.runtime").exception("failed")
        for handler in root.handlers:
            handler.flush()
        out = capfd.readouterr().out
        assert "[edgekv:info] GET / 200 OK (0.10ms)\n" in out
        assert "\na worker line\n" in out
        assert "[edgekv:error] failed\nTraceback" in out and "ValueError: boom" in out
    finally:
        for handler in root.handlers[:]:
            if handler not in saved[0]:
                root.removeHandler(handler)
        root.setLevel(saved[1])
        (logging.logThreads, logging.logProcesses, logging.logMultiprocessing,
         logging._srcfile) = saved[2:]


def test_the_request_path_benchmark_runs_every_layer() -> None:
    """A small run of bench/request_path.py: every layer answers and gets a figure."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(root / "bench" / "request_path.py"), "--n", "200",
                           "--rounds", "1"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.endswith("x floor app")]
    assert [row.split("  ")[1].strip() for row in rows] == [
        "asgi app", "floor app", "runtime", "+ RequestLimits", "+ ManagementPaths",
        "+ AccessLog (off)", "+ AccessLog (on)"]
    assert all(float(row.split()[-5]) > 0 for row in rows)
