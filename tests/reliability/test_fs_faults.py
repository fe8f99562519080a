"""Attack: filesystem faults (docs/reliability.md, "One clear line, never a traceback").

Every CLI command and ``edgekv dev`` answer a storage fault with exactly one line naming
the file, what is wrong and what to do, and a non-zero exit; the data stays intact (the
file's bytes are unchanged, or every key written before still reads back).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from edgekv.storage.sqlite import VALUE_SQL
from tests.reliability._faults import (
    CORRUPTIONS,
    fsize_limit,
    one_error_line,
    run_as,
    seeded_store,
    shared_folder,
)
from tests.reliability._procs import make_project

COMMANDS: list[tuple[str, ...]] = [
    ("kv", "key", "get", "key-0001", "--binding", "KV"),
    ("kv", "key", "put", "new", "value", "--binding", "KV"),
    ("kv", "key", "list", "--binding", "KV"),
    ("kv", "bulk", "put", "bulk.json", "--binding", "KV"),
    ("kv", "namespace", "list"),
]


def _digest(folder: Path) -> dict[str, str]:
    # -shm is an index rebuilt at will; an empty -wal is deleted by SQLite on close; the
    # state folder's .gitignore is written once by whichever command comes first
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.endswith("-shm") and p.stat().st_size > 0
            and p.name != ".gitignore"}


def _project(root: Path) -> tuple[Path, Path, dict[str, bytes]]:
    project = make_project(root)
    (project / "bulk.json").write_text(json.dumps([{"key": "b", "value": "x" * 3000}]))
    db = project / ".edgekv" / "kv.sqlite3"
    return project, db, seeded_store(db)


def _readable(db: Path, data: dict[str, bytes], *, immutable: bool = False) -> bool:
    uri = f"file:{db}?immutable=1" if immutable else f"file:{db}"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        stored = dict(conn.execute(f"SELECT key, {VALUE_SQL} FROM entries"))
    return all(stored.get(k) == v for k, v in data.items())


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupted_store(tmp_path: Path, corruption: str) -> None:
    project, db, data = _project(tmp_path / "p")
    CORRUPTIONS[corruption](db)
    before = _digest(db.parent)
    for command in COMMANDS:
        done = run_as(project, *command)
        if done.returncode == 0 and corruption == "garbage-wal":  # SQLite ignores a bad WAL
            assert _readable(db, data)
            continue
        if done.returncode == 0:  # a read that did not touch the damaged pages
            assert command[2] in ("get", "list"), (command, done.stdout)
            assert _digest(db.parent) == before
            continue
        line = one_error_line(done.stderr)
        assert str(db) in line and "corrupted" in line, line
        assert _digest(db.parent) == before  # nothing was written into the damaged file


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    project, db, _ = _project(tmp_path / "p")
    CORRUPTIONS["garbage"](db)
    done = run_as(project, "kv", "key", "get", "key-0001", "--binding", "KV", "--debug")
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("✘ [ERROR] ")


def test_state_path_is_a_file(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    (project / ".edgekv").write_text("not a folder")
    for command in COMMANDS[:3]:
        done = run_as(project, *command)
        line = one_error_line(done.stderr)
        assert done.returncode == 1 and ".edgekv" in line, line
    assert (project / ".edgekv").read_text() == "not a folder"


def test_schema_from_a_newer_edgekv(tmp_path: Path) -> None:
    project, db, data = _project(tmp_path / "p")
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
    for command in COMMANDS:
        done = run_as(project, *command)
        line = one_error_line(done.stderr)
        assert done.returncode == 1 and str(db) in line and "Upgrade edgekv" in line, line
    assert _readable(db, data)


@pytest.mark.parametrize(("target", "mode"), [("file", 0o000), ("file", 0o444), ("folder", 0o555),
                                              ("folder", 0o000)])
def test_permissions(target: str, mode: int) -> None:
    with shared_folder() as root:
        project, db, data = _project(root / "p")
        for path in [root, *root.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        (db.parent / "kv.sqlite3-shm").unlink(missing_ok=True)
        (db.parent / "kv.sqlite3-wal").unlink(missing_ok=True)
        (db if target == "file" else db.parent).chmod(mode)
        for command in COMMANDS:
            done = run_as(project, *command, unprivileged=True)
            if done.returncode == 0:
                assert command[2] in ("get", "list"), (command, done.stdout)  # reading may work
                continue
            line = one_error_line(done.stderr)
            assert "kv.sqlite3" in line or ".edgekv" in line, line
        db.parent.chmod(0o777)
        db.chmod(0o666)
        assert _readable(db, data)


def test_disk_full_stood_in_by_a_file_size_limit(tmp_path: Path) -> None:
    project, db, data = _project(tmp_path / "p")
    big = [{"key": f"big{i}", "value": "y" * 100_000} for i in range(40)]
    (project / "big.json").write_text(json.dumps(big))
    limit = db.stat().st_size + 200_000
    done = run_as(project, "kv", "bulk", "put", "big.json", "--binding", "KV", preexec=fsize_limit(limit))
    line = one_error_line(done.stderr)
    assert done.returncode == 1 and str(db) in line and "disk may be full" in line, line
    assert _readable(db, data)
    with contextlib.closing(sqlite3.connect(db)) as conn:  # all or nothing
        assert conn.execute("SELECT count(*) FROM entries WHERE key LIKE 'big%'").fetchone() == (0,)


def test_read_only_mount(tmp_path: Path) -> None:
    mount = tmp_path / "mnt"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                                           capture_output=True, check=False).returncode != 0:
        pytest.skip("this machine cannot mount a filesystem; test_permissions covers read-only files")
    try:
        project, db, data = _project(mount / "p")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        assert _readable(db, data, immutable=True)
        for command in COMMANDS:
            done = run_as(project, *command)
            if done.returncode == 0:
                assert command[2] in ("get", "list")
                continue
            line = one_error_line(done.stderr)
            assert "kv.sqlite3" in line or ".edgekv" in line, line
        assert _readable(db, data, immutable=True)
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_dev_banner_reports_a_corrupted_store(tmp_path: Path) -> None:
    project, db, _ = _project(tmp_path / "p")
    CORRUPTIONS["garbage"](db)
    done = run_as(project, "dev", "--port", "0")
    line = one_error_line(done.stderr)
    assert done.returncode == 1 and str(db) in line and "corrupted" in line, line
