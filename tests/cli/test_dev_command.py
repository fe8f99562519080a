"""`edgekv dev`: failure paths through click's runner, and the real server as a subprocess."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result

REPO = Path(__file__).resolve().parents[2]
TODO = REPO / "examples" / "todo"
_SCRIPT = Path(sys.executable).with_name("edgekv")
EDGEKV = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "edgekv"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DevProcess:
    """A running `edgekv dev`; its merged output is read line by line in a thread."""

    def __init__(self, *args: str, cwd: Path) -> None:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*EDGEKV, "dev", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, needle: str, timeout: float = 20.0) -> str:
        """The first output line containing ``needle`` (fails with the output so far)."""
        for line in self.lines:
            if needle in line:
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if needle in line:
                return line
        pytest.fail(f"{needle!r} not printed; output:\n" + "\n".join(self.lines))

    def interrupt(self, timeout: float = 20.0) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self.wait_for_end()
        return code

    def wait_for_end(self) -> None:
        while True:
            try:
                line = self._queue.get(timeout=5)
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def start_dev() -> Iterator[Callable[..., DevProcess]]:
    started: list[DevProcess] = []

    def start(*args: str, cwd: Path) -> DevProcess:
        process = DevProcess(*args, cwd=cwd)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def kv_put(cwd: Path, *args: str) -> None:
    done = subprocess.run([*EDGEKV, "kv", "key", "put", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


# -- failure paths (no server is started) ---------------------------------------------------


def test_config_error_is_reported_without_traceback(
    run: Callable[..., Result], project_dir: Path
) -> None:
    (project_dir / "wrangler.toml").write_text('name = "x"\nmain = "src/entry.py"\n')
    result = run("dev")
    assert result.exit_code == 1
    assert "✘ [ERROR]" in result.output
    assert "python_workers" in result.output
    assert "Traceback" not in result.output


def test_bad_var_flag(run: Callable[..., Result]) -> None:
    result = run("dev", "--var", "NOVALUE")
    assert result.exit_code == 1
    assert "✘ [ERROR] Invalid --var 'NOVALUE': expected KEY:VALUE" in result.output


def test_missing_main_file(run: Callable[..., Result], project_dir: Path) -> None:
    (project_dir / "src" / "entry.py").unlink()
    result = run("dev")
    assert result.exit_code == 1
    assert 'The entry-point file at "src/entry.py" was not found.' in result.output


# -- the real server -----------------------------------------------------------------------


def test_smoke_dev_serves_kv_data_written_by_the_cli(
    start_dev: Callable[..., DevProcess], tmp_path: Path
) -> None:
    port = free_port()
    state = tmp_path / "state"
    kv_put(TODO, "--binding", "TODO", "to-do:123", "Buy milk", "--persist-to", str(state))
    dev = start_dev("examples/todo", "--port", str(port), "--persist-to", str(state), cwd=REPO)
    ready = dev.wait_for("Ready on")
    assert ready.endswith(f"Ready on http://127.0.0.1:{port}")
    assert any("env.TODO (06779da6940b431db6e566b4846d64db)" in line for line in dev.lines)

    response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
    assert (response.status_code, response.text) == (200, "Buy milk")
    line = dev.wait_for("GET / 200")
    assert line.startswith("[edgekv:info] GET / 200 OK (") and line.endswith("ms)")

    assert dev.interrupt() == 0
    assert not any("Traceback" in line for line in dev.lines), "\n".join(dev.lines)


def test_reload_on_file_change_keeps_data(
    start_dev: Callable[..., DevProcess], tmp_path: Path
) -> None:
    project = tmp_path / "todo"
    shutil.copytree(TODO, project, ignore=shutil.ignore_patterns(".edgekv", "__pycache__"))
    port = free_port()
    kv_put(project, "--binding", "TODO", "to-do:123", "kept value")
    dev = start_dev(str(project), "--port", str(port), cwd=tmp_path)
    dev.wait_for("Ready on")
    url = f"http://127.0.0.1:{port}/"
    assert httpx.get(url, timeout=10).text == "kept value"

    entry = project / "src" / "entry.py"
    entry.write_text(entry.read_text().replace(
        'return Response(await self.env.TODO.get("to-do:123"))',
        'return Response("v2: " + await self.env.TODO.get("to-do:123"))',
    ))
    dev.wait_for("Local server updated and ready")
    assert httpx.get(url, timeout=10).text == "v2: kept value"

    entry.write_text("this is not python(\n")
    dev.wait_for("The Worker failed to load")
    broken = httpx.get(url, timeout=10)
    assert broken.status_code == 500 and "SyntaxError" in broken.text

    entry.write_text(TODO.joinpath("src", "entry.py").read_text())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = httpx.get(url, timeout=10)
        if response.status_code == 200:
            break
        time.sleep(0.1)
    assert (response.status_code, response.text) == (200, "kept value")
    assert dev.interrupt() == 0


def test_log_level_warn_drops_request_lines() -> None:
    import logging

    from edgekv.server.console import configure_logging

    root_handlers = list(logging.getLogger().handlers)
    try:
        configure_logging("warn")
        assert not logging.getLogger("edgekv.dev").isEnabledFor(logging.INFO)
        configure_logging("log")
        assert logging.getLogger("edgekv.dev").isEnabledFor(logging.INFO)
    finally:
        logging.getLogger().handlers[:] = root_handlers
        logging.getLogger("edgekv").setLevel(logging.NOTSET)
