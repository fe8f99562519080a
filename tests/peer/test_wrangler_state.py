"""`edgekv kv import-wrangler` on state written by Cloudflare's own simulator.

A second Miniflare instance of the peer runs with KV persisted to a project's
`.wrangler/state/v3/kv` (the layout wrangler 4 uses), values are written through the real
binding, the instance is stopped, and edgekv imports the folder.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from edgekv.cli.app import cli
from tests.cli.test_dev_command import free_port

TOML = 'name = "w"\nmain = "entry.py"\ncompatibility_flags = ["python_workers"]\n' \
       'kv_namespaces = [{ binding = "DATA", id = "KV" }]\n'


@pytest.fixture
def peer_dir() -> Path:
    found = os.environ.get("EDGEKV_PEER_DIR")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("EDGEKV_PEER_DIR is not set: scripts/test.sh installs the peer in CI")
        pytest.skip("the Miniflare peer is not installed (scripts/test.sh installs it)")
    return Path(found)


def test_import_of_state_written_by_miniflare(peer_dir: Path, tmp_path: Path) -> None:
    kv_dir = tmp_path / ".wrangler" / "state" / "v3" / "kv"
    port = free_port()
    env = {**os.environ, "PEER_PORT": str(port), "PEER_PERSIST": str(kv_dir),
           "CLOUDFLARE_CF_FETCH_ENABLED": "false"}
    node = subprocess.Popen(["node", "serve.mjs"], cwd=peer_dir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        assert node.stdout is not None
        while time.monotonic() < deadline and "peer ready" not in node.stdout.readline():
            pass
        url = f"http://127.0.0.1:{port}/op"
        ops = [
            {"op": "put", "key": "plain", "value": "hello"},
            {"op": "put", "key": "bin", "value_b64": base64.b64encode(b"\x00\xff\xfe").decode()},
            {"op": "put", "key": "meta", "value": "v", "options": {"metadata": {"m": [1, "x"]},
                                                                   "expirationTtl": 3600}},
            {"op": "put", "key": "ünïcødé/😀", "value": "u"},
            *({"op": "put", "key": f"many:{i:04d}", "value": str(i)} for i in range(300)),
            {"op": "put", "key": "gone", "value": "x"},
            {"op": "delete", "key": "gone"},
        ]
        with httpx.Client(timeout=20) as client:
            for op in ops:
                assert client.post(url, json=op).json()["ok"] is True
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=20)
    (tmp_path / "wrangler.toml").write_text(TOML)
    runner = CliRunner()
    result = runner.invoke(cli, ["kv", "import-wrangler", "--cwd", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output == 'Imported 304 keys into namespace binding: "DATA" (id: "KV").\n'

    def get(key: str) -> bytes:
        done = runner.invoke(cli, ["kv", "key", "get", key, "--binding", "DATA", "--cwd", str(tmp_path)])
        return done.stdout_bytes

    assert get("plain") == b"hello"
    assert get("bin") == b"\x00\xff\xfe"
    assert get("ünïcødé/😀") == b"u"
    assert get("many:0299") == b"299"
    assert get("gone") == b"Value not found\n"
    import json

    listed = json.loads(runner.invoke(cli, ["kv", "key", "list", "--binding", "DATA", "--prefix", "meta",
                                            "--cwd", str(tmp_path)]).output)
    assert listed[0]["name"] == "meta" and listed[0]["metadata"] == {"m": [1, "x"]}
    assert abs(listed[0]["expiration"] - (time.time() + 3600)) < 120
    namespaces = json.loads(runner.invoke(cli, ["kv", "namespace", "list", "--cwd", str(tmp_path)]).output)
    assert {"id": "KV", "title": "DATA"}.items() <= namespaces[0].items()


def test_import_without_state_says_so(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(TOML)
    result = CliRunner().invoke(cli, ["kv", "import-wrangler", "--cwd", str(tmp_path)])
    assert result.exit_code == 1
    assert "Nothing imported: no wrangler KV state in" in result.output
