"""Cloudflare's Python templates (npm ``create-cloudflare``), as ``npm create cloudflare``
lays them out, served by a real ``edgekv dev`` subprocess.

``scripts/c3-templates.sh`` installs the pinned package into a cache folder once (test.sh
exports ``EDGEKV_C3_TEMPLATES``; without it the fixture runs the script). Without npm the
tests skip locally and fail in CI, where ``.ci/run`` has npm.

The templates declare ``requires-python >= 3.12``/``>= 3.13``, so their ``edgekv dev`` runs
on such a CPython: ``scripts/install-python.sh`` provides one with edgekv's dependencies in a
cached virtual environment (test.sh exports ``EDGEKV_TEMPLATE_PYTHON``; without it the fixture
runs the script), and this checkout's ``src/`` goes first on its ``PYTHONPATH``. Where it
cannot be installed the tests skip locally and fail in CI.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "c3-templates.sh"
PYTHON_SCRIPT = ROOT / "scripts" / "install-python.sh"
WORKER_NAME = "my-python-app"
COMPATIBILITY_DATE = "2026-11-01"


@pytest.fixture(scope="session")
def c3_templates() -> Path:
    """The ``templates`` folder of the pinned create-cloudflare package."""
    named = os.environ.get("EDGEKV_C3_TEMPLATES")
    if named and (Path(named) / "hello-world" / "py").is_dir():
        return Path(named)
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=300,
                          check=False)
    if done.returncode != 0:
        message = f"create-cloudflare templates unavailable: {done.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def template_python() -> Path:
    """A CPython 3.12/3.13 (the templates' ``requires-python``) with edgekv's dependencies."""
    named = os.environ.get("EDGEKV_TEMPLATE_PYTHON")
    if named and Path(named).is_file():
        return Path(named)
    done = subprocess.run(["bash", str(PYTHON_SCRIPT)], capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        message = f"no CPython 3.12/3.13 for the templates: {done.stderr.strip()[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Path(done.stdout.strip().splitlines()[-1])


def create_project(template: Path, dest: Path) -> Path:
    """Copy ``template`` as create-cloudflare does: ``__dot__`` files renamed, placeholders
    (``<WORKER_NAME>``, ``<COMPATIBILITY_DATE>``, ``"<PROJECT_NAME>"``) filled in."""
    shutil.copytree(template, dest)
    for path in sorted(dest.rglob("__dot__*")):
        path.rename(path.with_name("." + path.name[len("__dot__"):]))
    for name in ("wrangler.jsonc", "wrangler.json", "wrangler.toml", "pyproject.toml"):
        path = dest / name
        if path.is_file():
            text = path.read_text("utf-8")
            text = text.replace("<WORKER_NAME>", WORKER_NAME)
            text = text.replace("<COMPATIBILITY_DATE>", COMPATIBILITY_DATE)
            text = text.replace('"<PROJECT_NAME>"', f'"{WORKER_NAME}"')
            path.write_text(text, "utf-8")
    return dest


class DevServer:
    """``python -m edgekv dev --port 0`` in ``cwd``; ``url`` once it printed Ready.

    ``python`` is the interpreter (default: the one running the tests); another one imports
    edgekv from this checkout's ``src/``.
    """

    def __init__(self, cwd: Path, *args: str, python: Path | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env["NO_COLOR"] = "1"
        if python is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
        self.proc = subprocess.Popen(
            [str(python or sys.executable), "-m", "edgekv", "dev", "--port", "0", "--no-watch",
             *args],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._pumped = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = self._wait_ready()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self._pumped.set()

    def _wait_ready(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.output.append(line)
            found = re.search(r"Ready on (http://\S+)", line)
            if found:
                return found.group(1)
        self.stop()
        raise AssertionError("edgekv dev did not start:\n" + "\n".join(self.output))

    def drain(self) -> list[str]:
        """Everything the server printed so far (after :meth:`stop`: all of it)."""
        if self.proc.poll() is not None:
            self._pumped.wait(5)
        while True:
            try:
                self.output.append(self.lines.get_nowait())
            except queue.Empty:
                return self.output

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def dev_server() -> Iterator[Callable[..., DevServer]]:
    started: list[DevServer] = []

    def start(cwd: Path, *args: str, python: Path | None = None) -> DevServer:
        server = DevServer(cwd, *args, python=python)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
