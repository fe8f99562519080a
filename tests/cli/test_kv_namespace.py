"""``edgekv kv namespace ...`` through click's runner."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from click.testing import Result

from .conftest import WRANGLER_TOML, human_header


def test_create_prints_the_toml_snippet(run) -> None:
    result = run("kv", "namespace", "create", "my-kv")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(human_header())
    lines = result.stdout.removeprefix(human_header()).splitlines()
    assert lines[:2] == ['🌀 Creating namespace with title "my-kv"', "✨ Success!"]
    assert lines[2] == ("To access your new KV Namespace in your Worker, add the following snippet "
                        "to your configuration file:")
    assert lines[3:5] == ["[[kv_namespaces]]", 'binding = "my_kv"']
    assert re.fullmatch(r'id = "[0-9a-f]{32}"', lines[5])


def test_create_json_snippet_env_and_preview(run, project_dir) -> None:
    (project_dir / "wrangler.toml").unlink()
    (project_dir / "wrangler.json").write_text(json.dumps({"name": "x", "env": {"dev": {}}}))
    result = run("kv", "namespace", "create", "CACHE", "--preview", "--env", "dev")
    assert result.exit_code == 0, result.output
    assert '🌀 Creating namespace with title "dev-CACHE_preview"' in result.stdout
    assert "configuration file under [env.dev]:" in result.stdout
    snippet = json.loads(result.stdout.split("under [env.dev]:\n", 1)[1])
    assert list(snippet["kv_namespaces"][0]) == ["binding", "preview_id"]


def test_duplicate_title_fails(run) -> None:
    assert run("kv", "namespace", "create", "dup").exit_code == 0
    result = run("kv", "namespace", "create", "dup")
    assert result.exit_code == 1
    assert result.stderr.strip() == '✘ [ERROR] A KV namespace with the title "dup" already exists.'


def test_list_rename_delete(run) -> None:
    run("kv", "namespace", "create", "b-ns")
    run("kv", "namespace", "create", "a-ns")
    listed = [ns for ns in json.loads(run("kv", "namespace", "list").stdout)
              if ns["title"].endswith("-ns")]  # the config's namespaces are listed too
    assert [ns["title"] for ns in listed] == ["a-ns", "b-ns"]
    assert all(ns["supports_url_encoding"] is True and len(ns["id"]) == 32 for ns in listed)
    a_id = listed[0]["id"]
    result = run("kv", "namespace", "rename", "a-ns", "--new-name", "z-ns")
    assert result.exit_code == 0, result.output
    assert f'✨ Successfully renamed namespace ID "{a_id}" to "z-ns"' in result.stdout
    assert [ns["title"] for ns in json.loads(run("kv", "namespace", "list").stdout)
            if ns["title"].endswith("-ns")] == ["b-ns", "z-ns"]
    run("kv", "key", "put", "k", "v", "--namespace-id", a_id)
    result = run("kv", "namespace", "delete", "z-ns")
    assert result.exit_code == 0 and f"Deleted KV namespace {a_id}." in result.stdout
    assert [ns["title"] for ns in json.loads(run("kv", "namespace", "list").stdout)
            if ns["title"].endswith("-ns")] == ["b-ns"]
    assert run("kv", "key", "get", "k", "--namespace-id", a_id).stdout == "Value not found\n"


def test_list_empty_is_an_empty_array(run, project_dir) -> None:
    (project_dir / "wrangler.toml").write_text('name = "empty"\n')
    assert run("kv", "namespace", "list").stdout == "[]\n"


def test_delete_needs_exactly_one_selector(run) -> None:
    result = run("kv", "namespace", "delete")
    assert result.exit_code == 1
    assert "Exactly one of the arguments namespace, binding and namespace-id is required" in result.stderr
    result = run("kv", "namespace", "delete", "nope")
    assert result.stderr.strip() == '✘ [ERROR] No namespace found with the name "nope". Use --namespace-id instead.'


def test_config_mistakes_are_reported_not_raised(run, project_dir) -> None:
    (project_dir / "wrangler.toml").write_text(WRANGLER_TOML + "\nkv_namespaces = 3\n")
    result = run("kv", "namespace", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("✘ [ERROR]") and "Traceback" not in result.output


def test_namespace_list_shows_config_and_data_namespaces(run: Callable[..., Result]) -> None:
    """Every namespace named in the config or holding data is listed, with a title."""
    assert run("kv", "key", "put", "k", "v", "--namespace-id", "adhoc-ns").exit_code == 0
    listed = {ns["id"]: ns["title"] for ns in json.loads(run("kv", "namespace", "list").output)}
    assert listed == {
        "06779da6940b431db6e566b4846d64db": "TODO",
        "aaaa0000aaaa0000aaaa0000aaaa0000": "BOTH",
        "bbbb1111bbbb1111bbbb1111bbbb1111": "BOTH_preview",
        "adhoc-ns": "adhoc-ns",
    }
