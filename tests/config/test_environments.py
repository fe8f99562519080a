"""[env.NAME] sections: wrangler's inheritance rules and environment selection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edgekv.config import KVNamespaceBinding, Migration, load_config

BASE: dict[str, Any] = {
    "name": "worker",
    "main": "src/entry.py",
    "compatibility_date": "2025-01-01",
    "compatibility_flags": ["python_workers"],
    "vars": {"FOO": "top", "BAR": "top"},
    "kv_namespaces": [{"binding": "KV", "id": "top-id"}],
    "migrations": [{"tag": "v1", "new_sqlite_classes": ["Counter"]}],
    "durable_objects": {"bindings": [{"name": "COUNTER", "class_name": "Counter"}]},
    "dev": {"port": 9000},
}


def with_env(**env: Any) -> dict[str, Any]:
    return {**BASE, "env": {"staging": env}}


def test_inheritable_keys_are_inherited(check: Callable[..., Any]) -> None:
    config, _ = check(with_env(), env="staging")
    assert config.name == "worker-staging"
    assert config.main == "src/entry.py"
    assert config.compatibility_date == "2025-01-01"
    assert config.compatibility_flags == ("python_workers",)
    assert config.migrations == (Migration("v1", new_sqlite_classes=("Counter",)),)
    assert config.dev.port == 9000  # dev is top-level only
    assert config.env == "staging"
    assert config.defined_environments == ("staging",)


def test_inheritable_keys_can_be_overridden(check: Callable[..., Any]) -> None:
    config, _ = check(with_env(name="stg", main="other.py", compatibility_date="2025-02-02",
                               compatibility_flags=["python_workers", "x"]), env="staging")
    assert (config.name, config.main, config.compatibility_date) == (
        "stg", "other.py", "2025-02-02")
    assert config.compatibility_flags == ("python_workers", "x")


def test_bindings_and_vars_are_not_inherited(check: Callable[..., Any]) -> None:
    config, diagnostics = check(with_env(), env="staging")
    assert dict(config.vars) == {}
    assert config.kv_namespaces == ()
    assert config.durable_objects == ()
    (child,) = diagnostics.children
    assert child.description == '"env.staging" environment configuration'
    assert [w.message for w in child.warnings] == [
        f'"{key}" exists at the top level, but not on "env.staging".\n'
        f'This is not what you probably want, since "{key}" is not inherited by environments.\n'
        f'Please add "{key}" to "env.staging".'
        for key in ("vars", "kv_namespaces", "durable_objects")
    ]
    assert {w.field for w in child.warnings} == {"env.staging"}


def test_env_bindings_replace_top_level_ones(check: Callable[..., Any]) -> None:
    config, diagnostics = check(with_env(
        vars={"FOO": "stg", "BAR": "stg"},
        kv_namespaces=[{"binding": "KV", "id": "stg-id", "preview_id": "stg-prev"}],
        durable_objects={"bindings": [{"name": "COUNTER", "class_name": "Counter"}]},
    ), env="staging")
    assert dict(config.vars) == {"FOO": "stg", "BAR": "stg"}
    assert config.kv_namespaces == (KVNamespaceBinding("KV", "stg-id", "stg-prev"),)
    assert not diagnostics.has_warnings()


def test_missing_names_in_env_bindings_warn(warnings: Callable[..., list[str]]) -> None:
    raw = with_env(
        vars={"FOO": "stg"},
        kv_namespaces=[{"binding": "OTHER"}],
        durable_objects={"bindings": [{"name": "OTHER_DO", "class_name": "Counter"}]},
    )
    assert warnings(raw, env="staging") == [
        ('The following vars exist at the top level, but not on "env.staging.vars".\n'
        'This is probably not what you want, since "vars" configuration is not inherited by '
        'environments.\nPlease add these vars to "env.staging.vars":\n- BAR'),
        ('There is a kv_namespaces binding with name "KV" at the top level, but not on '
        '"env.staging".\nThis is not what you probably want, since "kv_namespaces" '
        'configuration is not inherited by environments.\nPlease add a binding for "KV" to '
        '"env.staging.kv_namespaces.bindings".'),
        ('The following bindings are at the top level, but not on "env.staging".\n'
        'This is not what you probably want, since "durable_objects" configuration is not '
        'inherited by environments.\nPlease add a binding for each to '
        '"env.staging.durable_objects.bindings":\n- COUNTER'),
    ]


def test_env_errors_carry_the_env_path(check: Callable[..., Any]) -> None:
    _, diagnostics = check(with_env(kv_namespaces=[{"id": "x"}], name="Bad"), env="staging")
    assert [(e.field, e.message) for e in diagnostics.all_errors()] == [
        ("env.staging.name", ('Expected "name" to be of type string, alphanumeric and lowercase '
         'with dashes only but got "Bad".')),
        ("env.staging.kv_namespaces[0].binding", ('"env.staging.kv_namespaces[0]" bindings '
         'should have a string "binding" field but got {"id":"x"}.')),
    ]


def test_unknown_key_in_env_warns(warnings: Callable[..., list[str]]) -> None:
    raw = {"env": {"staging": {"dev": {"port": 1}}}}
    assert warnings(raw, env="staging") == [
        ('Unexpected fields found in env.staging field: "dev"\n'
        "  If this is a new configuration option, please update your edgekv version.")
    ]


def test_env_only_bindings_without_top_level(check: Callable[..., Any]) -> None:
    config, diagnostics = check({"name": "w", "env": {"prod": {
        "kv_namespaces": [{"binding": "KV", "id": "p"}]}}}, env="prod")
    assert config.kv_namespaces == (KVNamespaceBinding("KV", "p"),)
    top, _ = check({"name": "w", "env": {"prod": {"kv_namespaces": [{"binding": "KV"}]}}})
    assert top.kv_namespaces == ()
    assert not diagnostics.has_warnings()


def test_duplicate_names_checked_in_selected_env_only(errors: Callable[..., list[str]]) -> None:
    raw = {"vars": {"X": "1"}, "kv_namespaces": [{"binding": "X"}],
           "env": {"ok": {"vars": {"X": "1"}}}}
    assert errors(raw, env="ok") == []
    assert errors(raw)[0] == "X assigned to KV Namespace and Environment Variable bindings."


def test_undefined_env_without_envs_uses_top_level(check: Callable[..., Any]) -> None:
    config, diagnostics = check(BASE, env="prod")
    assert config.name == "worker-prod"
    assert config.kv_namespaces == (KVNamespaceBinding("KV", "top-id"),)
    assert diagnostics.has_warnings()


def test_cloudflare_env_selects_and_env_argument_wins(tmp_path: Path) -> None:
    (tmp_path / "wrangler.jsonc").write_text(
        '{"name": "w", "env": {"a": {"name": "from-a"}, "b": {"name": "from-b"}}}')
    assert load_config(tmp_path, cwd=tmp_path, environ={"CLOUDFLARE_ENV": "a"}).name == "from-a"
    assert load_config(tmp_path, env="b", cwd=tmp_path,
                       environ={"CLOUDFLARE_ENV": "a"}).name == "from-b"


@pytest.mark.parametrize("flag_in_env", [True, False])
def test_python_flag_checked_on_resolved_env(errors: Callable[..., list[str]],
                                             flag_in_env: bool) -> None:
    env = {"compatibility_flags": ["python_workers"] if flag_in_env else []}
    raw = {"main": "entry.py", "compatibility_flags": ["python_workers"],
           "env": {"e": env}}
    expected = [] if flag_in_env else [
        "The `python_workers` compatibility flag is required to use Python."]
    assert errors(raw, env="e") == expected


def test_identifier_warning_paths_follow_the_active_env(check: Callable[..., Any]) -> None:
    raw = {"kv_namespaces": [{"binding": "a-b"}],
           "env": {"e": {"kv_namespaces": [{"binding": "c-d"}]}}}
    _, top = check(raw)
    assert [w.field for w in top.all_warnings()] == ["kv_namespaces[0].binding"]
    _, in_env = check(raw, env="e")
    assert "env.e.kv_namespaces[0].binding" in [w.field for w in in_env.all_warnings()]


def test_a_mistyped_env_name_gets_a_suggestion(errors: Callable[..., list[str]]) -> None:
    raw = {"name": "w", "env": {"staging": {}, "production": {}}}
    (message,) = errors(raw, "stagng")
    assert 'No environment found in configuration with name "stagng".' in message
    assert 'The available configured environment names are: ["staging","production"]\n' \
           'Did you mean "staging"?\n' in message
