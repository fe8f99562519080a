"""``edgekv kv key ...`` through click's runner."""

from __future__ import annotations

import json
import time

from .conftest import human_header

TODO = "06779da6940b431db6e566b4846d64db"


def test_put_get_list_delete(run) -> None:
    result = run("kv", "key", "put", "to-do:123", "Buy milk", "--binding", "TODO")
    assert result.exit_code == 0, result.output
    assert result.stdout == (human_header() + 'Writing the value "Buy milk" to key "to-do:123" on '
                             f'namespace binding: "TODO" (id: "{TODO}").\n')
    assert run("kv", "key", "get", "to-do:123", "--binding", "TODO").stdout == "Buy milk"
    assert run("kv", "key", "get", "to-do:123", "--binding", "TODO", "--text").stdout == "Buy milk\n"
    assert run("kv", "key", "get", "to-do:123", "--namespace-id", TODO).stdout == "Buy milk"
    assert json.loads(run("kv", "key", "list", "--binding", "TODO").stdout) == [{"name": "to-do:123"}]
    result = run("kv", "key", "delete", "to-do:123", "--binding", "TODO")
    assert result.stdout == (human_header() + 'Deleting the key "to-do:123" on namespace '
                             f'binding: "TODO" (id: "{TODO}").\n')
    result = run("kv", "key", "delete", "to-do:123", "--namespace-id", TODO)
    assert result.stdout.endswith(f'Deleting the key "to-do:123" on namespace id: "{TODO}".\n')
    result = run("kv", "key", "get", "to-do:123", "--binding", "TODO")
    assert (result.exit_code, result.stdout) == (0, "Value not found\n")


def test_binary_value_from_path(run, project_dir) -> None:
    blob = bytes(range(256)) * 4
    (project_dir / "blob.bin").write_bytes(blob)
    result = run("kv", "key", "put", "bin", "--path", str(project_dir / "blob.bin"), "--binding", "TODO")
    assert f'Writing the contents of {project_dir / "blob.bin"} to the key "bin"' in result.stdout
    assert run("kv", "key", "get", "bin", "--binding", "TODO").stdout_bytes == blob


def test_ttl_expiration_and_metadata(run) -> None:
    result = run("kv", "key", "put", "m", "v", "--binding", "TODO", "--metadata", '{"a":1,"é":"ü"}',
                 "--ttl", "120")
    assert result.exit_code == 0, result.output
    assert 'with metadata "{"a":1,"é":"ü"}".' in result.stdout
    expires = int(time.time()) + 3600
    run("kv", "key", "put", "e", "v", "--binding", "TODO", "--expiration", str(expires))
    listed = json.loads(run("kv", "key", "list", "--binding", "TODO").stdout)
    assert listed[0] == {"name": "e", "expiration": expires}
    assert listed[1]["name"] == "m" and listed[1]["metadata"] == {"a": 1, "é": "ü"}
    assert abs(listed[1]["expiration"] - (int(time.time()) + 120)) <= 2


def test_cloudflare_errors_exit_1(run) -> None:
    cases = [
        (["x", "v", "--ttl", "30"], "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
        (["k" * 513, "v"], "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."),
        (["..", "v"], '".." is not allowed as a key name.'),
        (["x", "v", "--metadata", json.dumps({"k": "x" * 1100})], "KV PUT failed: 413 Metadata length of 1108 exceeds limit of 1024."),
    ]
    for args, message in cases:
        result = run("kv", "key", "put", *args, "--binding", "TODO")
        assert result.exit_code == 1
        assert result.stderr.strip() == f"✘ [ERROR] {message}"


def test_metadata_must_be_an_object(run) -> None:
    assert "--metadata must be valid JSON" in run("kv", "key", "put", "k", "v", "--binding", "TODO", "--metadata", "{nope").stderr
    assert "--metadata must be a JSON object" in run("kv", "key", "put", "k", "v", "--binding", "TODO", "--metadata", "[1]").stderr


def test_value_or_path(run) -> None:
    result = run("kv", "key", "put", "k", "--binding", "TODO")
    assert result.exit_code == 1 and "Exactly one of the arguments value and path is required" in result.stderr


def test_target_resolution(run) -> None:
    assert "Exactly one of the arguments binding and namespace-id is required" in run("kv", "key", "get", "k").stderr
    result = run("kv", "key", "get", "k", "--binding", "NOPE")
    assert result.stderr.strip() == ('✘ [ERROR] A namespace with binding name "NOPE" was not found in the '
                                     'configured "kv_namespaces".')
    assert "No preview ID found for TODO" in run("kv", "key", "get", "k", "--binding", "TODO", "--preview").stderr


def test_preview_defaults_to_what_dev_reads(run) -> None:
    run("kv", "key", "put", "k", "preview-side", "--binding", "BOTH")
    run("kv", "key", "put", "k", "id-side", "--binding", "BOTH", "--preview", "false")
    assert run("kv", "key", "get", "k", "--namespace-id", "bbbb1111bbbb1111bbbb1111bbbb1111").stdout == "preview-side"
    assert run("kv", "key", "get", "k", "--binding", "BOTH", "--preview").stdout == "preview-side"
    assert run("kv", "key", "get", "k", "--binding", "BOTH", "--preview", "false").stdout == "id-side"


def test_env_selects_environment_bindings(run) -> None:
    run("kv", "key", "put", "k", "staging", "--binding", "TODO", "--env", "staging")
    assert run("kv", "key", "get", "k", "--namespace-id", "5ta9e5ta9e5ta9e5ta9e5ta9e5ta9e00").stdout == "staging"
    assert run("kv", "key", "get", "k", "--binding", "TODO").stdout == "Value not found\n"


def test_persist_to_moves_the_state(run, project_dir, tmp_path_factory) -> None:
    other = tmp_path_factory.mktemp("state")
    run("kv", "key", "put", "k", "elsewhere", "--binding", "TODO", "--persist-to", str(other))
    assert (other / "kv.sqlite3").exists() and not (project_dir / ".edgekv").exists()
    assert run("kv", "key", "get", "k", "--binding", "TODO", "--persist-to", str(other)).stdout == "elsewhere"


def test_list_prefix_and_many_keys(run, project_dir) -> None:
    items = [{"key": f"p:{i:05d}", "value": "v"} for i in range(2500)] + [{"key": "q", "value": "v"}]
    (project_dir / "bulk.json").write_text(json.dumps(items))
    assert run("kv", "bulk", "put", str(project_dir / "bulk.json"), "--binding", "TODO").exit_code == 0
    listed = json.loads(run("kv", "key", "list", "--binding", "TODO", "--prefix", "p:").stdout)
    assert [k["name"] for k in listed] == [f"p:{i:05d}" for i in range(2500)]
    assert run("kv", "key", "list", "--binding", "TODO", "--prefix", "zzz").stdout == "[]\n"


def test_remote_without_a_credential_says_what_to_set(run, monkeypatch) -> None:
    for name in ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "CLOUDFLARE_API_KEY", "CF_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = run("kv", "key", "get", "k", "--binding", "TODO", "--remote")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "✘ [ERROR] In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN "
        "environment variable for wrangler to work.")


def test_local_and_remote_together_are_refused(run) -> None:
    result = run("kv", "key", "get", "k", "--binding", "TODO", "--local", "--remote")
    assert result.exit_code == 1
    assert result.stderr == "✘ [ERROR] Arguments local and remote are mutually exclusive\n\n"
