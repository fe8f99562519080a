"""``edgekv kv bulk ...`` and ``kv namespace export`` through click's runner."""

from __future__ import annotations

import base64
import json
import time

from .conftest import human_header

BINARY = bytes(range(256))


def write(project_dir, name: str, content: object) -> str:
    path = project_dir / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def test_bulk_put_round_trips_binary_and_metadata(run, project_dir) -> None:
    expires = int(time.time()) + 3600
    items = [
        {"key": "text", "value": "héllo"},
        {"key": "bin", "value": base64.b64encode(BINARY).decode(), "base64": True},
        {"key": "meta", "value": "m", "metadata": {"n": 1, "s": "ü"}, "expiration": expires},
        {"key": "ttl", "value": "t", "expiration_ttl": 600},
    ]
    result = run("kv", "bulk", "put", write(project_dir, "in.json", items), "--binding", "TODO")
    assert result.exit_code == 0, result.output
    assert result.stdout == human_header() + "Success!\n"
    assert run("kv", "key", "get", "bin", "--binding", "TODO").stdout_bytes == BINARY
    assert run("kv", "key", "get", "text", "--binding", "TODO").stdout == "héllo"
    listed = {k["name"]: k for k in json.loads(run("kv", "key", "list", "--binding", "TODO").stdout)}
    assert listed["meta"] == {"name": "meta", "expiration": expires, "metadata": {"n": 1, "s": "ü"}}
    assert abs(listed["ttl"]["expiration"] - (int(time.time()) + 600)) <= 2

    exported = run("kv", "namespace", "export", "--binding", "TODO").stdout
    items_out = json.loads(exported)
    assert {i["key"] for i in items_out} == {"text", "bin", "meta", "ttl"}
    assert next(i for i in items_out if i["key"] == "bin")["base64"] is True
    # Load the export into another namespace: identical values, metadata and expirations.
    path = write(project_dir, "export.json", exported)
    assert run("kv", "bulk", "put", path, "--namespace-id", "copy").exit_code == 0
    assert run("kv", "key", "get", "bin", "--namespace-id", "copy").stdout_bytes == BINARY
    assert run("kv", "namespace", "export", "--namespace-id", "copy").stdout == exported


def test_bulk_put_from_stdin(run) -> None:
    result = run("kv", "bulk", "put", "-", "--binding", "TODO", input='[{"key":"s","value":"from stdin"}]')
    assert result.exit_code == 0, result.output
    assert run("kv", "key", "get", "s", "--binding", "TODO").stdout == "from stdin"


def test_bad_shapes_are_listed_and_nothing_is_stored(run, project_dir) -> None:
    items = [{"key": "ok", "value": "v"}, {"key": "a"}, 3, {"key": "b", "value": 1}]
    result = run("kv", "bulk", "put", write(project_dir, "bad.json", items), "--binding", "TODO")
    assert result.exit_code == 1
    # Laid out as wrangler 4.86 prints it (observed): notes indented under a blank line.
    assert result.stderr == (
        f'✘ [ERROR] Unexpected JSON input from "{project_dir / "bad.json"}".\n\n'
        "  Each item in the array should be an object that matches:\n  \n"
        "  interface KeyValue {\n    key: string;\n    value: string;\n    expiration?: number;\n"
        "    expiration_ttl?: number;\n    metadata?: object;\n    base64?: boolean;\n  }\n  \n"
        '  The item at index 1 is {"key":"a"}\n  The item at index 2 is 3\n'
        '  The item at index 3 is {"key":"b","value":1}\n\n'
    )
    assert run("kv", "key", "get", "ok", "--binding", "TODO").stdout == "Value not found\n"


def test_kv_rule_violations_are_listed_and_nothing_is_stored(run, project_dir) -> None:
    items = [{"key": f"k{i}", "value": "v"} for i in range(3000)]
    items[1500] = {"key": "short", "value": "v", "expiration_ttl": 30}
    items[2999] = {"key": "x" * 513, "value": "v"}
    result = run("kv", "bulk", "put", write(project_dir, "rules.json", items), "--binding", "TODO")
    assert result.exit_code == 1
    assert "Nothing was written: 2 item(s)" in result.stderr
    assert ('The item at index 1500 (key "short") cannot be stored: KV PUT failed: 400 Invalid '
            "expiration_ttl of 30. Expiration TTL must be at least 60.") in result.stderr
    assert "The item at index 2999" in result.stderr and "exceeds key length limit of 512." in result.stderr
    assert json.loads(run("kv", "key", "list", "--binding", "TODO").stdout) == []


def test_not_an_array(run, project_dir) -> None:
    result = run("kv", "bulk", "put", write(project_dir, "obj.json", {"key": "a"}), "--binding", "TODO")
    assert result.exit_code == 1
    assert 'Expected an array of key-value objects but got type "object".' in result.stderr
    result = run("kv", "bulk", "put", write(project_dir, "broken.json", "[{"), "--binding", "TODO")
    assert result.exit_code == 1 and "as JSON" in result.stderr


def test_unexpected_properties_only_warn(run, project_dir) -> None:
    result = run("kv", "bulk", "put", write(project_dir, "extra.json", [{"key": "a", "value": "v", "ttl": 5}]),
                 "--binding", "TODO")
    assert result.exit_code == 0
    assert 'The item at index 0 contains unexpected properties: ["ttl"].' in result.stderr


def test_bulk_get_and_delete(run, project_dir) -> None:
    run("kv", "bulk", "put", "-", "--binding", "TODO", input='[{"key":"a","value":"1"},{"key":"b","value":"2"}]')
    result = run("kv", "bulk", "get", write(project_dir, "keys.json", ["a", {"name": "missing"}]), "--binding", "TODO")
    assert json.loads(result.stdout) == {"a": {"value": "1"}, "missing": {"value": None}}
    result = run("kv", "bulk", "delete", write(project_dir, "del.json", ["a", "b"]), "--binding", "TODO")
    assert result.exit_code == 0
    assert "🤖 Using fallback value in non-interactive context: yes" in result.stdout
    assert result.stdout.endswith("Success!\n")
    assert json.loads(run("kv", "key", "list", "--binding", "TODO").stdout) == []
    run("kv", "key", "put", "c", "3", "--binding", "TODO")
    result = run("kv", "bulk", "delete", write(project_dir, "del2.json", ["c"]), "--binding", "TODO", "--force")
    assert "Using fallback" not in result.stdout and result.exit_code == 0
    assert run("kv", "key", "get", "c", "--binding", "TODO").stdout == "Value not found\n"
