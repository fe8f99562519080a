"""Attacks on ``kv bulk put`` (docs/reliability.md, "Writers hold the lock only
while writing"): slow stdin, Ctrl-C, a lock held too long.

A slow stdin used to hold the KV write transaction for the whole stream (a Worker's put
waited 120 s, then got "database is locked"); now input is read and validated first.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from edgekv.errors import KVError
from edgekv.kv import KVNamespace
from edgekv.storage.sqlite import SqliteStore
from tests.reliability._procs import NAMESPACE_ID, kill9, make_project, popen, wait_reading_stdin

ITEMS = [{"key": f"k{i:04d}", "value": "v" * 100} for i in range(500)]


def _start_bulk(project: Path) -> subprocess.Popen[bytes]:
    return popen(project, "kv", "bulk", "put", "-", "--binding", "KV", stdin=subprocess.PIPE,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def _timed_put(db: Path, key: str) -> float:
    store = SqliteStore(db)
    try:
        started = time.monotonic()
        await KVNamespace(store, NAMESPACE_ID).put(key, "from the worker")
        return time.monotonic() - started
    finally:
        await store.close()


def _keys(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT key FROM entries ORDER BY key")]


def test_slow_stdin_does_not_hold_the_write_lock(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    db = project / ".edgekv" / "kv.sqlite3"
    asyncio.run(_timed_put(db, "before"))  # the store exists, as under a running server
    text = json.dumps(ITEMS).encode()
    proc = _start_bulk(project)
    try:
        assert proc.stdin is not None
        proc.stdin.write(text[: len(text) // 2])
        proc.stdin.flush()
        wait_reading_stdin(proc, proc.stdin)  # the CLI is now mid-stream, waiting for the rest
        # Held by the CLI, the lock would make the put wait its 10 s, then fail with KVError.
        assert asyncio.run(_timed_put(db, "during")) < 5.0
        proc.stdin.write(text[len(text) // 2 :])
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        kill9(proc)
    assert _keys(db) == ["before", "during", *(item["key"] for item in ITEMS)]


def test_ctrl_c_while_reading_writes_nothing_and_says_so(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    proc = _start_bulk(project)
    try:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(json.dumps(ITEMS).encode()[:5000])
        proc.stdin.flush()
        # Python handles SIGINT only once it runs: wait until the command is reading the
        # input (it took what was written and waits for more), however slow the machine is.
        wait_reading_stdin(proc, proc.stdin)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        err = proc.stderr.read().decode()
    finally:
        kill9(proc)
    assert err.strip().splitlines()[-1] == "Interrupted while reading the input: nothing was written."
    assert "Aborted!" not in err and "Traceback" not in err
    db = project / ".edgekv" / "kv.sqlite3"
    assert not db.exists() or _keys(db) == []


def test_a_worker_write_waits_a_bounded_time_then_gets_a_kv_error(tmp_path: Path) -> None:
    db = tmp_path / "kv.sqlite3"
    asyncio.run(_timed_put(db, "first"))
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process stuck inside its write

    async def attempt() -> tuple[float, KVError]:
        store = SqliteStore(db, lock_wait_seconds=0.5)
        started = time.monotonic()
        try:
            with pytest.raises(KVError) as caught:
                await KVNamespace(store, NAMESPACE_ID).put("blocked", "x")
            return time.monotonic() - started, caught.value
        finally:
            await store.close()

    try:
        elapsed, error = asyncio.run(attempt())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(error) == "KV PUT failed: 503 Service Unavailable"
    assert 0.4 < elapsed < 3.0
