"""Helpers for the attack suite: run ``edgekv`` as a real process, see it wait for its\nstdin, stop it by pid."""

from __future__ import annotations

import fcntl
import os
import platform
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import IO, Any

_SCRIPT = Path(sys.executable).with_name("edgekv")
EDGEKV = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "edgekv"]

PROJECT_TOML = """\
name = "attack"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "KV", id = "0123456789abcdef0123456789abcdef" }]
"""
NAMESPACE_ID = "0123456789abcdef0123456789abcdef"


def make_project(root: Path, entry: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "wrangler.toml").write_text(PROJECT_TOML, encoding="utf-8")
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "entry.py").write_text(entry, encoding="utf-8")
    return root


def popen(cwd: Path, *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([*EDGEKV, *args], cwd=cwd, env=env, **kwargs)


def run(cwd: Path, *args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([*EDGEKV, *args], cwd=cwd, input=stdin, capture_output=True, env=env,
                          timeout=timeout, check=False)


_READ_SYSCALL = {"x86_64": 0, "aarch64": 63}.get(platform.machine())


def _reading_stdin(pid: int) -> bool:
    """Whether a thread of ``pid`` is blocked in ``read(0, ...)`` (Linux ``/proc``)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "syscall").read_text().split()
        except OSError:
            continue
        if _READ_SYSCALL is not None and fields[:2] == [str(_READ_SYSCALL), "0x0"]:
            return True
        if _READ_SYSCALL is None and "pipe_read" in (task / "wchan").read_text():
            return True
    return False


def wait_reading_stdin(proc: subprocess.Popen[Any], stdin: IO[bytes], timeout: float = 60.0) -> None:
    """Wait until ``proc`` took everything written to ``stdin`` (the pipe is empty) and is
    blocked reading for more: a condition, not a guess of how long a loaded machine takes.
    Fails after ``timeout`` s or when ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        unread = struct.unpack("i", fcntl.ioctl(stdin.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
        if unread == 0 and _reading_stdin(proc.pid):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the process ended ({proc.returncode}) instead of reading stdin")
        if time.monotonic() > deadline:
            raise AssertionError(f"the process did not read its stdin within {timeout} s")
        time.sleep(0.02)


def kill9(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL one process by its pid and reap it."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
