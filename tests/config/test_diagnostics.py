"""One test per configuration diagnostic, asserting wrangler's exact text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edgekv.config import load_config
from edgekv.errors import ConfigError, EdgeKVError

UNEXPECTED_TAIL = "\n  If this is a new configuration option, please update your edgekv version."

ERROR_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("name_type", {"name": 5}, [
        ('Expected "name" to be of type string, alphanumeric and lowercase with dashes only '
        "but got 5.")]),
    ("name_format", {"name": "Bad_Name"}, [
        ('Expected "name" to be of type string, alphanumeric and lowercase with dashes only '
        'but got "Bad_Name".')]),
    ("main_type", {"main": ["a"]}, ['Expected "main" to be of type string but got ["a"].']),
    ("account_id_type", {"account_id": 1},
     ['Expected "account_id" to be of type string but got 1.']),
    ("compat_date_type", {"compatibility_date": 20250101},
     ['Expected "compatibility_date" to be of type string but got 20250101.']),
    ("compat_date_toml_date", {"compatibility_date": dt.date(2025, 1, 1)},
     [('Expected "compatibility_date" to be of type string but got '
      '"2025-01-01T00:00:00.000Z".')]),
    ("compat_date_format", {"compatibility_date": "01/02/2025"},
     [('"compatibility_date" field should be a valid ISO-8601 date (YYYY-MM-DD), but got '
      '"01/02/2025".')]),
    ("compat_date_en_dash", {"compatibility_date": "2025–01–01"},
     [('"compatibility_date" field should use ISO-8601 accepted hyphens (-) rather than '
      "en-dashes (–) or em-dashes (—).")]),
    ("compat_flags_type", {"compatibility_flags": "python_workers"},
     ['Expected "compatibility_flags" to be of type string array but got "python_workers".']),
    ("python_flag", {"main": "src/entry.py"},
     ["The `python_workers` compatibility flag is required to use Python."]),
    ("vars_type", {"vars": ["A"]}, ['The field "vars" should be an object but got ["A"].']),
    ("vars_toml_date", {"vars": {"D": dt.date(2025, 12, 19)}},
     [('The field "vars.D" is a TOML date, which is not supported. Please use a string '
      'instead, e.g. D = "2025-12-19".')]),
    ("kv_not_array", {"kv_namespaces": {"binding": "A"}},
     ['The field "kv_namespaces" should be an array but got {"binding":"A"}.']),
    ("kv_entry_not_object", {"kv_namespaces": ["A"]},
     ['"kv_namespaces" bindings should be objects, but got "A"']),
    ("kv_missing_binding", {"kv_namespaces": [{"binding": "A", "id": "1"}, {"id": "x2"}]},
     ['"kv_namespaces[1]" bindings should have a string "binding" field but got {"id":"x2"}.']),
    ("kv_empty_id", {"kv_namespaces": [{"binding": "A", "id": ""}]},
     [('"kv_namespaces[0]" bindings should have a string "id" field but got '
      '{"binding":"A","id":""}.')]),
    ("kv_id_type", {"kv_namespaces": [{"binding": "A", "id": 5}]},
     [('"kv_namespaces[0]" bindings should have a string "id" field but got '
      '{"binding":"A","id":5}.')]),
    ("kv_preview_id_type", {"kv_namespaces": [{"binding": "A", "preview_id": 5}]},
     [('"kv_namespaces[0]" bindings should, optionally, have a string "preview_id" field but '
      'got {"binding":"A","preview_id":5}.')]),
    ("kv_remote_type", {"kv_namespaces": [{"binding": "A", "remote": "yes"}]},
     [('"kv_namespaces[0]" bindings should, optionally, have a boolean "remote" field but got '
      '{"binding":"A","remote":"yes"}.')]),
    ("do_not_object", {"durable_objects": []},
     ['The field "durable_objects" should be an object but got [].']),
    ("do_missing_bindings", {"durable_objects": {}},
     ['The field "durable_objects" is missing the required "bindings" property.']),
    ("do_bindings_not_array", {"durable_objects": {"bindings": {}}},
     ['The field "durable_objects.bindings" should be an array but got {}.']),
    ("do_entry_not_object", {"durable_objects": {"bindings": [5]}},
     ['Expected "durable_objects.bindings[0]" to be an object but got 5']),
    ("do_missing_name_and_class", {"durable_objects": {"bindings": [{}]}},
     ['binding should have a string "name" field.',
      'binding should have a string "class_name" field.']),
    ("do_script_name_type",
     {"durable_objects": {"bindings": [{"name": "A", "class_name": "C", "script_name": 1}]}},
     ['the field "script_name", when present, should be a string.']),
    ("do_environment_without_script",
     {"durable_objects": {"bindings": [{"name": "A", "class_name": "C", "environment": "e"}]}},
     ['binding should have a "script_name" field if "environment" is present.']),
    ("migrations_not_array", {"migrations": {"tag": "v1"}},
     ['The optional "migrations" field should be an array, but got {"tag":"v1"}']),
    ("migration_missing_tag", {"migrations": [{"new_sqlite_classes": ["C"]}]},
     ['"migrations[0].tag" is a required field.']),
    ("migration_tag_type", {"migrations": [{"tag": 1}]},
     ['Expected "migrations[0].tag" to be of type string but got 1.']),
    ("migration_classes_not_array", {"migrations": [{"tag": "v1", "new_classes": "C"}]},
     ['Expected "migrations[0].new_classes" to be an array of strings but got "C"']),
    ("migration_class_not_string", {"migrations": [{"tag": "v1", "new_sqlite_classes": [1]}]},
     ['Expected "migrations[0].new_sqlite_classes.[0]" to be of type string but got 1.']),
    ("migration_deleted_type", {"migrations": [{"tag": "v1", "deleted_classes": [True]}]},
     ['Expected "migrations[0].deleted_classes.[0]" to be of type string but got true.']),
    ("migration_renamed_shape", {"migrations": [{"tag": "v1", "renamed_classes": [{"from": "A"}]}]},
     [('Expected "migrations[0].renamed_classes" to be an array of "{from: string, to: string}" '
      'objects but got [{"from":"A"}].')]),
    ("migration_transferred_shape",
     {"migrations": [{"tag": "v1", "transferred_classes": "A"}]},
     [('Expected "migrations[0].transferred_classes" to be an array of "{from: string, '
      'from_script: string, to: string}" objects but got "A".')]),
    ("migration_entry_not_object", {"migrations": ["v1"]},
     ['Expected "migrations[0]" to be an object but got "v1".']),
    ("dev_not_object", {"dev": 5}, ['Expected "dev" to be of type object but got 5.']),
    ("dev_port_type", {"dev": {"port": "8787"}},
     ['Expected "dev.port" to be of type number but got "8787".']),
    ("dev_ip_type", {"dev": {"ip": 127}}, ['Expected "dev.ip" to be of type string but got 127.']),
    ("dev_local_protocol", {"dev": {"local_protocol": "ftp"}},
     ['Expected "dev.local_protocol" field to be one of ["http","https"] but got "ftp".']),
    ("duplicate_across_types",
     {"vars": {"DATA": "x"}, "kv_namespaces": [{"binding": "DATA"}],
      "durable_objects": {"bindings": [{"name": "DATA", "class_name": "C"}]},
      "migrations": [{"tag": "v1", "new_sqlite_classes": ["C"]}]},
     ["DATA assigned to Durable Object, KV Namespace, and Environment Variable bindings.",
      ("Bindings must have unique names, so that they can all be referenced in the worker.\n"
      "Please change your bindings to have unique names.")]),
    ("duplicate_same_type", {"kv_namespaces": [{"binding": "X"}, {"binding": "X"}]},
     ["X assigned to multiple KV Namespace bindings.",
      ("Bindings must have unique names, so that they can all be referenced in the worker.\n"
      "Please change your bindings to have unique names.")]),
    ("duplicate_with_unsupported_binding",
     {"kv_namespaces": [{"binding": "B"}], "r2_buckets": [{"binding": "B", "bucket_name": "b"}]},
     ["B assigned to KV Namespace and R2 Bucket bindings.",
      ("Bindings must have unique names, so that they can all be referenced in the worker.\n"
      "Please change your bindings to have unique names.")]),
    ("legacy_env", {"legacy_env": True},
     [('The "legacy_env" field is no longer supported, so please remove it from your '
      "configuration file.\nService environments have been removed, and each environment is "
      'now deployed as its own Worker named "<name>-<environment>". This matches the '
      'behaviour of "legacy_env = true", which was the default, so removing the field will '
      "not change how your Worker is deployed.\nRefer to "
      "https://developers.cloudflare.com/workers/wrangler/environments/ for more information.")]),
    ("secrets_type", {"secrets": ["A"]}, ['The field "secrets" should be an object but got ["A"].']),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in ERROR_CASES],
                         ids=[c[0] for c in ERROR_CASES])
def test_error(errors: Callable[..., list[str]], raw: dict[str, Any], expected: list[str]) -> None:
    assert errors(raw) == expected


WARNING_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown_top_level", {"colour": "red"},
     ['Unexpected fields found in top-level field: "colour"' + UNEXPECTED_TAIL]),
    ("unknown_kv_field", {"kv_namespaces": [{"binding": "A", "id": "1", "ttl": 5}]},
     ['Unexpected fields found in kv_namespaces[0] field: "ttl"' + UNEXPECTED_TAIL]),
    ("unknown_do_field",
     {"durable_objects": {"bindings": [{"name": "A", "class_name": "C", "x": 1}]},
      "migrations": [{"tag": "v1", "new_sqlite_classes": ["C"]}]},
     ['Unexpected fields found in durable_objects.bindings[0] field: "x"' + UNEXPECTED_TAIL]),
    ("unknown_migration_field", {"migrations": [{"tag": "v1", "new_class": ["C"]}]},
     ['Unexpected fields found in migrations field: "new_class"' + UNEXPECTED_TAIL
      + '\n  Did you mean "new_classes" instead of "new_class"?']),
    ("unknown_dev_field", {"dev": {"prot": 1}},
     ['Unexpected fields found in dev field: "prot"' + UNEXPECTED_TAIL
      + '\n  Did you mean "port" instead of "prot"?']),
    ("did_you_mean_top_level", {"kv_namespace": [], "var": {}},
     ['Unexpected fields found in top-level field: "kv_namespace","var"' + UNEXPECTED_TAIL
      + '\n  Did you mean "kv_namespaces" instead of "kv_namespace"?'
      + '\n  Did you mean "vars" instead of "var"?']),
    ("did_you_mean_do_binding", {"durable_objects": {"bindings": [{"name": "A", "class_name": "A",
                                                                   "class": "A"}]},
                                 "migrations": [{"tag": "v1", "new_sqlite_classes": ["A"]}]},
     ['Unexpected fields found in durable_objects.bindings[0] field: "class"' + UNEXPECTED_TAIL
      + '\n  Did you mean "class_name" instead of "class"?']),
    ("kv_remote", {"kv_namespaces": [{"binding": "A", "remote": True}]},
     [('"kv_namespaces[0]" sets "remote" to true, but edgekv has no remote bindings: the '
      "binding uses local storage.")]),
    ("unsupported_binding", {"r2_buckets": [{"binding": "R", "bucket_name": "b"}]},
     ['"r2_buckets" bindings are not supported by edgekv yet; they will be missing from env.']),
    ("do_without_any_migration",
     {"durable_objects": {"bindings": [{"name": "COUNTER", "class_name": "Counter"}]}},
     [("In your wrangler.toml file, you have configured `durable_objects` exported by this "
      "Worker (Counter), but no `migrations` for them. This may not work as expected until you "
      "add a `migrations` section to your wrangler.toml file. Add the following "
      'configuration:\n\n```\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = [ "Counter" ]\n'
      "```\n\nRefer to https://developers.cloudflare.com/durable-objects/reference/"
      "durable-objects-migrations/ for more details.")]),
    ("do_class_not_in_migrations",
     {"durable_objects": {"bindings": [{"name": "A", "class_name": "Alpha"},
                                       {"name": "B", "class_name": "Beta"}]},
      "migrations": [{"tag": "v1", "new_sqlite_classes": ["Alpha"]}]},
     [('The Durable Object class "Beta" (binding "B") is not created by any migration. Add it '
      "to `new_sqlite_classes` in a new `migrations` entry; until then edgekv treats it as "
      "SQLite-backed.")]),
    ("identifier_kv", {"kv_namespaces": [{"binding": "my-kv store"}]},
     [('The binding name "my-kv store" ("kv_namespaces[0].binding") is not a valid Python '
      'identifier, so Python code can only reach it as getattr(env, "my-kv store"). Consider '
      'renaming it to "my_kv_store".')]),
    ("identifier_keyword_var", {"vars": {"class": "x"}},
     [('The binding name "class" ("vars.class") is a Python keyword, so Python code can only '
      'reach it as getattr(env, "class"). Consider renaming it to "class_".')]),
    ("identifier_do_leading_digit",
     {"durable_objects": {"bindings": [{"name": "1DO", "class_name": "C"}]},
      "migrations": [{"tag": "v1", "new_sqlite_classes": ["C"]}]},
     [('The binding name "1DO" ("durable_objects.bindings[0].name") is not a valid Python '
      'identifier, so Python code can only reach it as getattr(env, "1DO"). Consider renaming '
      'it to "_1DO".')]),
    ("unknown_env_without_envs", {"name": "w"},
     [('No environment found in configuration with name "prod".\nBefore using `--env=prod` '
      "there should be an equivalent environment section in the configuration.\n\n"
      "Consider adding an environment configuration section to the wrangler.toml file:\n"
      "```\n[env.prod]\n```\n")]),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in WARNING_CASES],
                         ids=[c[0] for c in WARNING_CASES])
def test_warning(
    check: Callable[..., Any], warnings: Callable[..., list[str]], raw: dict[str, Any],
    expected: list[str],
) -> None:
    env = "prod" if "name" in raw else None
    config, diagnostics = check(raw, env)
    assert config is not None, diagnostics.render_errors()
    assert warnings(raw, env) == expected


def test_unknown_env_is_an_error_when_envs_are_defined(errors: Callable[..., list[str]]) -> None:
    assert errors({"name": "w", "env": {"staging": {}}}, env="prod") == [
        ('No environment found in configuration with name "prod".\nBefore using `--env=prod` '
        "there should be an equivalent environment section in the configuration.\n"
        'The available configured environment names are: ["staging"]\n\n'
        "Consider adding an environment configuration section to the wrangler.toml file:\n"
        "```\n[env.prod]\n```\n")
    ]


def test_field_paths_point_at_the_problem(check: Callable[..., Any]) -> None:
    _, diagnostics = check({
        "kv_namespaces": [{"binding": "A"}, {"id": "x"}],
        "durable_objects": {"bindings": [{"name": "D"}]},
        "migrations": [{"tag": 1}],
        "dev": {"port": "1"},
    })
    assert [e.field for e in diagnostics.all_errors()] == [
        "migrations[0].tag",
        "kv_namespaces[1].binding",
        "dev.port",
        "durable_objects.bindings[0].class_name",
    ]
    assert {e.file for e in diagnostics.all_errors()} == {Path("/project/wrangler.toml")}


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "Bad_Name"\ncolour = "red"\n'
        '[[kv_namespaces]]\nbinding = "A"\nid = "x1"\n'
        '[[kv_namespaces]]\nid = "x2"\n'
        '[[durable_objects.bindings]]\nname = "D"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, cwd=tmp_path, environ={})
    assert isinstance(info.value, EdgeKVError)
    # wrangler 4.86's layout (observed): a blank line under the header, bullets indented by 4.
    assert str(info.value) == (
        "✘ [ERROR] Processing wrangler.toml configuration:\n\n"
        '    - Expected "name" to be of type string, alphanumeric and lowercase with dashes only '
        'but got "Bad_Name".\n'
        '    - "kv_namespaces[1]" bindings should have a string "binding" field but got '
        '{"id":"x2"}.\n'
        '    - "durable_objects.bindings[0]": {"name":"D"}\n'
        '      - binding should have a string "class_name" field.\n'
        "\n"
        "▲ [WARNING] Processing wrangler.toml configuration:\n\n"
        '    - Unexpected fields found in top-level field: "colour"\n'
        "        If this is a new configuration option, please update your edgekv version.\n"
    )


def test_valid_config_has_no_diagnostics(check: Callable[..., Any]) -> None:
    config, diagnostics = check({
        "name": "w", "main": "entry.py", "compatibility_date": "2025-06-01",
        "compatibility_flags": ["python_workers"], "vars": {"A": "1", "J": {"x": 1}},
        "kv_namespaces": [{"binding": "KV"}],
        "durable_objects": {"bindings": [{"name": "DO", "class_name": "C"},
                                         {"name": "EXT", "class_name": "X", "script_name": "o",
                                          "environment": "prod"}]},
        "migrations": [{"tag": "v1", "new_sqlite_classes": ["C"]}],
        "dev": {"port": 9000, "ip": "0.0.0.0", "local_protocol": "https"},
        "$schema": "x.json", "routes": [], "observability": {"enabled": True},
    })
    assert config is not None
    assert not diagnostics.has_errors() and not diagnostics.has_warnings()
