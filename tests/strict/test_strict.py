"""Strict mode reports, with file and line, what would fail on Cloudflare's Python Workers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import httpx
import pytest

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.strict import StrictMode, config_cpu_ms
from edgekv.strict.imports import pyodide_packages, scan_imports

TOML = 'name = "s"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n'


def project(tmp_path: Path, entry: str, toml: str = TOML, **modules: str) -> Path:
    (tmp_path / "wrangler.toml").write_text(toml)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(textwrap.dedent(entry))
    for name, text in modules.items():
        (tmp_path / "src" / f"{name}.py").write_text(textwrap.dedent(text))
    return tmp_path


def test_pyodide_package_list_comes_from_the_lock() -> None:
    packages = pyodide_packages()
    assert packages["numpy"]["native"] is True and "numpy" in packages["numpy"]["imports"]
    assert "uvloop" not in packages


def test_native_imports_pyodide_lacks_are_named_with_file_and_line(tmp_path: Path) -> None:
    root = project(tmp_path, """\
        import json
        import uvloop                  # native, no Pyodide build
        import httpx                   # pure Python: fine
        from workers import Response   # edgekv's shim
        import helpers                 # a sibling module
        import tkinter                 # left out of Pyodide
        """, helpers="import yaml\n")
    found = scan_imports(root)
    assert ("src/entry.py:2", ("imports uvloop (from uvloop), a native extension with no Pyodide "
                               "build: it cannot run on Cloudflare's Python Workers")) in found
    assert ("src/entry.py:6", ("imports tkinter, which Pyodide (Cloudflare's Python Workers) does "
                               "not ship")) in found
    assert len(found) == 2


async def _serve(runtime: WorkerRuntime, checker: StrictMode) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=checker.wrap(runtime.asgi_app)),
                             base_url="http://localhost")


async def test_threads_subprocesses_blocking_and_cpu(tmp_path: Path) -> None:
    root = project(tmp_path, f"""\
        import subprocess, threading, time
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                path = request.url.split("/", 3)[3]
                if path == "thread":
                    threading.Thread(target=lambda: None).start()
                elif path == "process":
                    subprocess.run([{sys.executable!r}, "-c", "pass"])
                elif path == "block":
                    time.sleep(0.3)
                elif path == "cpu":
                    end = time.thread_time() + 0.08
                    while time.thread_time() < end:
                        pass
                return Response(path)
        """, toml=TOML + "[limits]\ncpu_ms = 50\n")
    config = load_config(root, cwd=root, environ={})
    assert config_cpu_ms(config) == 50
    checker = StrictMode.for_config(config)
    try:
        with checker.importing():
            runtime = await WorkerRuntime.open(config, store_url="memory://")
        checker.attach(runtime)
        async with await _serve(runtime, checker) as client:
            for path in ("thread", "process", "block", "cpu", "fine"):
                assert (await client.get(f"/{path}")).text == path
                await asyncio.sleep(0.05)
        await runtime.close()
    finally:
        checker.close()
    found = {f.kind: f for f in checker.reporter.findings}
    assert found["thread"].location == "src/entry.py:8"
    assert "Python Workers on Cloudflare have no threads" in found["thread"].message
    assert found["subprocess"].location == "src/entry.py:10"
    blocking = [f.location for f in checker.reporter.findings if f.kind == "blocking"]
    assert "src/entry.py:12" in blocking  # time.sleep (the CPU loop may be long enough too)
    assert found["cpu"].location == "GET /cpu"
    assert "over the limit of 50 ms (limits.cpu_ms)" in found["cpu"].message
    assert set(found) == {"thread", "subprocess", "blocking", "cpu"}


async def test_randomness_and_time_at_import(tmp_path: Path) -> None:
    root = project(tmp_path, """\
        import random, time, uuid
        from workers import Response, WorkerEntrypoint

        SEED = random.random()
        STARTED = time.time()

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response(str(uuid.uuid4()))  # inside a handler: fine
        """)
    config = load_config(root, cwd=root, environ={})
    checker = StrictMode.for_config(config)
    try:
        with checker.importing():
            runtime = await WorkerRuntime.open(config, store_url="memory://")
        checker.attach(runtime)
        await runtime.fetch("http://localhost/")
        # a reload is watched too
        (root / "src" / "entry.py").write_text((root / "src" / "entry.py").read_text()
                                               .replace("SEED = random.random()", "SEED = 1"))
        assert await runtime.reload() is None
        await runtime.close()
    finally:
        checker.close()
    assert [(f.kind, f.location) for f in checker.reporter.findings] == [
        ("import-time", "src/entry.py:4"), ("import-time", "src/entry.py:5")]
    assert "reads random.random() while the module is imported" in checker.reporter.findings[0].message


async def test_edgekv_own_threads_are_not_reported(tmp_path: Path) -> None:
    root = project(tmp_path, """\
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                await self.env.KV.put("big", "x" * (2 << 20))  # a large write uses a thread
                return Response("ok")
        """, toml=TOML + 'kv_namespaces = [{ binding = "KV", id = "kv" }]\n')
    config = load_config(root, cwd=root, environ={})
    checker = StrictMode.for_config(config)
    try:
        runtime = await WorkerRuntime.open(config, store_url=f"sqlite:///{tmp_path / 'kv.db'}")
        checker.attach(runtime)
        assert (await runtime.fetch("http://localhost/")).status == 200
        threading.Thread(target=lambda: None).start()  # a test's own thread: not the Worker's
        await runtime.close()
    finally:
        checker.close()
    assert checker.reporter.findings == []


def test_dev_strict_flag_in_a_real_server(tmp_path: Path) -> None:
    from tests.cli.test_dev_command import EDGEKV, DevProcess, free_port

    root = project(tmp_path, """\
        import uvloop
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response("ok")
        """)
    port = free_port()
    server = DevProcess("--strict", "--port", str(port), cwd=root)
    try:
        server.wait_for("Ready on")
        line = server.wait_for("[strict]")
        assert "src/entry.py:1: imports uvloop" in line
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text == "ok"
        assert server.interrupt() == 0
    finally:
        server.kill()
    _ = (EDGEKV, subprocess, pytest)


pytest_plugins = ["pytester"]


def test_pytest_option_reports_strict_findings(pytester: pytest.Pytester) -> None:
    (pytester.path / "wrangler.toml").write_text(TOML)
    (pytester.path / "src").mkdir()
    (pytester.path / "src" / "entry.py").write_text(
        "import time\nfrom workers import Response, WorkerEntrypoint\n\nSTARTED = time.time()\n\n"
        "class Default(WorkerEntrypoint):\n    async def fetch(self, request):\n"
        "        return Response('ok')\n")
    pytester.makepyfile(test_worker="async def test_ok(worker):\n"
                                    "    assert (await worker.get('/')).text == 'ok'\n")
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    plain.assert_outcomes(passed=1)
    assert "[strict]" not in plain.stdout.str()
    strict = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--edgekv-strict")
    strict.assert_outcomes(passed=1, warnings=1)
    strict.stdout.fnmatch_lines(["*StrictModeWarning: ?strict? src/entry.py:4: reads time.time()*"])
    failing = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--edgekv-strict", "-W", "error::edgekv.strict.StrictModeWarning")
    failing.assert_outcomes(errors=1)
