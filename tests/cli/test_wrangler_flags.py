"""wrangler's flags where users reach for them: bulk put --ttl/--expiration/--metadata,
--env-file, namespace create --update-config; and bulk files reporting every bad item."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from edgekv.config import load_config


def test_bulk_put_defaults_apply_to_items_without_their_own(run: Callable[..., Result],
                                                            project_dir: Path) -> None:
    items = [{"key": "plain", "value": "1"},
             {"key": "own", "value": "2", "expiration_ttl": 7200, "metadata": {"own": True}}]
    (project_dir / "items.json").write_text(json.dumps(items))
    result = run("kv", "bulk", "put", "items.json", "--binding", "TODO", "--ttl", "600",
                 "--metadata", '{"batch": 7}')
    assert result.exit_code == 0, result.output
    listed = {k["name"]: k for k in json.loads(run("kv", "key", "list", "--binding", "TODO").output)}
    now = time.time()
    assert abs(listed["plain"]["expiration"] - (now + 600)) < 60
    assert listed["plain"]["metadata"] == {"batch": 7}
    assert abs(listed["own"]["expiration"] - (now + 7200)) < 60
    assert listed["own"]["metadata"] == {"own": True}
    bad = run("kv", "bulk", "put", "items.json", "--binding", "TODO", "--metadata", "[1]")
    assert bad.exit_code == 1 and "--metadata must be a JSON object" in bad.output


def test_bulk_put_lists_shape_and_rule_errors_together(run: Callable[..., Result],
                                                       project_dir: Path) -> None:
    items = [{"key": "ok", "value": "1"}, {"value": "no key"},
             {"key": "short", "value": "v", "expiration_ttl": 5}, 42]
    (project_dir / "bad.json").write_text(json.dumps(items))
    result = run("kv", "bulk", "put", "bad.json", "--binding", "TODO")
    assert result.exit_code == 1
    assert "The item at index 1 is" in result.output and "The item at index 3 is" in result.output
    assert "Also, 1 item(s) cannot be stored:" in result.output
    assert 'The item at index 2 (key "short") cannot be stored: KV PUT failed: 400 Invalid ' \
           "expiration_ttl of 5. Expiration TTL must be at least 60." in result.output
    assert json.loads(run("kv", "key", "list", "--binding", "TODO").output) == []


def test_namespace_create_update_config_toml(run: Callable[..., Result], project_dir: Path) -> None:
    (project_dir / "wrangler.toml").write_text(
        'name = "w"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n# keep me\n')
    result = run("kv", "namespace", "create", "shop", "--binding", "SHOP", "--update-config")
    assert result.exit_code == 0, result.output
    text = (project_dir / "wrangler.toml").read_text()
    assert "# keep me" in text and '[[kv_namespaces]]\nbinding = "SHOP"\nid = "' in text
    config = load_config(project_dir, cwd=project_dir, environ={})
    assert [kv.binding for kv in config.kv_namespaces] == ["SHOP"]


def test_namespace_create_update_config_json_and_refusals(run: Callable[..., Result],
                                                          project_dir: Path) -> None:
    (project_dir / "wrangler.toml").unlink()
    (project_dir / "wrangler.json").write_text(json.dumps(
        {"name": "w", "main": "src/entry.py", "compatibility_flags": ["python_workers"]}))
    result = run("kv", "namespace", "create", "data", "--binding", "DATA", "--update-config")
    assert result.exit_code == 0, result.output
    saved = json.loads((project_dir / "wrangler.json").read_text())
    assert saved["kv_namespaces"][0]["binding"] == "DATA" and len(saved["kv_namespaces"][0]["id"]) == 32
    (project_dir / "wrangler.json").unlink()
    commented = '{\n  // my comment\n  "name": "w", "main": "src/entry.py",\n' \
                '  "compatibility_flags": ["python_workers"]\n}\n'
    (project_dir / "wrangler.jsonc").write_text(commented)
    refused = run("kv", "namespace", "create", "more", "--update-config")
    assert refused.exit_code == 1 and "has comments" in refused.output
    assert (project_dir / "wrangler.jsonc").read_text() == commented


def test_inline_toml_list_is_refused_and_left_alone(run: Callable[..., Result], project_dir: Path) -> None:
    before = (project_dir / "wrangler.toml").read_text()  # kv_namespaces = [ ... ] inline
    result = run("kv", "namespace", "create", "x", "--update-config")
    assert result.exit_code == 1 and "writes kv_namespaces inline" in result.output
    assert (project_dir / "wrangler.toml").read_text() == before


def test_env_file_feeds_remote_settings(run: Callable[..., Result], project_dir: Path) -> None:
    (project_dir / "remote.env").write_text("CLOUDFLARE_API_BASE_URL=http://127.0.0.1:9/client/v4\n"
                                            "CLOUDFLARE_API_TOKEN=t\nCLOUDFLARE_ACCOUNT_ID=" + "a" * 32 + "\n")
    result = run("kv", "key", "get", "k", "--binding", "TODO", "--remote", "--env-file", "remote.env")
    assert result.exit_code == 1
    # the account and the (closed) API named in the env file were used
    assert f"/accounts/{'a' * 32}/storage/kv/namespaces" in result.output
    assert "All connection attempts failed" in result.output
    missing = run("kv", "key", "get", "k", "--binding", "TODO", "--env-file", "nope.env")
    assert missing.exit_code == 1 and "nope.env does not exist" in missing.output


def test_dev_env_file_becomes_worker_vars(tmp_path: Path) -> None:
    import httpx

    from tests.cli.test_dev_command import DevProcess, free_port

    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nmain = "entry.py"\ncompatibility_flags = ["python_workers"]\n'
        '[vars]\nGREETING = "from vars"\n')
    (tmp_path / "entry.py").write_text(
        "from workers import Response, WorkerEntrypoint\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        return Response(self.env.GREETING + ' ' + self.env.EXTRA)\n")
    (tmp_path / "a.env").write_text("GREETING=from a\nEXTRA=one\n")
    (tmp_path / "b.env").write_text("EXTRA=two\n")
    port = free_port()
    server = DevProcess("--port", str(port), "--env-file", "a.env", "--env-file", "b.env",
                        "--no-watch", cwd=tmp_path)
    try:
        server.wait_for("Ready on")
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text == "from a two"
        assert server.interrupt() == 0
    finally:
        server.kill()
