"""Helpers for the attack suite: run ``edgekv`` as a real process, stop it by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def kill9(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL one process by its pid and reap it."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
