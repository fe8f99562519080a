"""One real ``edgekv`` process per command group, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def edgekv(project_dir: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "edgekv", *args], cwd=project_dir, input=stdin, capture_output=True,
                          timeout=60, env=env, check=False)


def test_command_groups_as_subprocesses(project_dir: Path) -> None:
    created = edgekv(project_dir, "kv", "namespace", "create", "sub")
    assert created.returncode == 0, created.stderr
    assert "sub" in [ns["title"] for ns in json.loads(edgekv(project_dir, "kv", "namespace", "list").stdout)]

    put = edgekv(project_dir, "kv", "key", "put", "to-do:123", "Buy milk", "--binding", "TODO")
    assert put.returncode == 0, put.stderr
    assert edgekv(project_dir, "kv", "key", "get", "to-do:123", "--binding", "TODO").stdout == b"Buy milk"

    bulk = edgekv(project_dir, "kv", "bulk", "put", "-", "--binding", "TODO",
                  stdin=b'[{"key":"bin","value":"AP8=","base64":true}]')
    assert bulk.returncode == 0, bulk.stderr
    assert edgekv(project_dir, "kv", "key", "get", "bin", "--binding", "TODO").stdout == b"\x00\xff"

    bad = edgekv(project_dir, "kv", "key", "put", "x", "v", "--ttl", "59", "--binding", "TODO")
    assert bad.returncode == 1
    assert bad.stderr.decode().strip() == ("✘ [ERROR] KV PUT failed: 400 Invalid expiration_ttl of 59. "
                                           "Expiration TTL must be at least 60.")
    assert (project_dir / ".edgekv" / "kv.sqlite3").exists()
