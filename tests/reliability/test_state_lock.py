"""Attack: two servers on one state folder (docs/reliability.md, "One owner per state folder").

Two ``edgekv dev`` on one folder each cached the same Durable Object and overwrote each
other's writes; now the second refuses with one line naming the owner. The lock is an OS
lock, so a ``kill -9`` of the owner never leaves it stale.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from edgekv.config.lock import StateFolderLocked, StateLock
from tests.cli.test_dev_command import REPO, DevProcess, free_port

_HOLDER = textwrap.dedent("""
    import sys, time
    from edgekv.config.lock import StateLock
    lock = StateLock(sys.argv[1]); lock.acquire(address="http://127.0.0.1:1"); print("held", flush=True)
    time.sleep(60)
""")


def _holder(root: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_owner_is_refused_with_the_owner_named(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    try:
        lock = StateLock(tmp_path)
        try:
            lock.acquire()
        except StateFolderLocked as exc:
            text = str(exc)
        else:
            raise AssertionError("a second owner was let in")
        assert "\n" not in text
        assert f"pid {proc.pid}" in text and "http://127.0.0.1:1" in text and str(tmp_path) in text
        assert lock.is_locked() and not lock.held
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_kill_9_never_leaves_a_stale_lock(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert (tmp_path / "server.lock").exists()  # the file stays; the OS lock is gone
    lock = StateLock(tmp_path)
    assert not lock.is_locked()
    lock.acquire()
    assert lock.owner() is not None and lock.owner().pid == os.getpid()  # type: ignore[union-attr]
    lock.release()
    lock.release()  # idempotent


def test_two_dev_servers_on_one_folder(start_dev: Callable[..., DevProcess], tmp_path: Path) -> None:
    state = tmp_path / "state"
    port = free_port()
    first = start_dev("examples/todo", "--port", str(port), "--persist-to", str(state), cwd=REPO)
    first.wait_for("Ready on")
    second = start_dev("examples/todo", "--port", str(free_port()), "--persist-to", str(state), cwd=REPO)
    assert second.proc.wait(timeout=30) == 1
    second.wait_for_end()
    errors = [line for line in second.lines if line.startswith("✘")]
    assert len(errors) == 1 and ", since " in errors[0], second.lines
    assert errors == [f"✘ [ERROR] The state folder {state} is in use by another edgekv server "
                      f"(pid {first.proc.pid}, serving http://127.0.0.1:{port}, since "
                      + errors[0].split(", since ", 1)[1]], errors
    assert not any("Traceback" in line for line in second.lines)
    # the CLI still writes KV beside the running server
    put = subprocess.run([*_edgekv(), "kv", "key", "put", "k", "v", "--binding", "TODO",
                          "--persist-to", str(state)], cwd=REPO / "examples" / "todo",
                         capture_output=True, text=True, timeout=60, check=False)
    assert put.returncode == 0, put.stderr
    assert first.interrupt() == 0


def _edgekv() -> list[str]:
    from tests.cli.test_dev_command import EDGEKV

    return EDGEKV
