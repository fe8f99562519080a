"""Binding fields: ``vars``, ``kv_namespaces``, ``durable_objects``, and the cross-binding rules.

Messages are wrangler's (workers-sdk ``validation.ts``: ``validateVars``,
``validateBindingArray``/``validateKVBinding``, ``validateBindingsProperty``/
``validateDurableObjectBinding``, ``validateBindingsHaveUniqueNames``). Two checks are
edgekv's own and only warn, because wrangler accepts such configs: binding names that are
not Python identifiers (``env.my-kv`` cannot be written in Python), and ``remote = true``.
"""

from __future__ import annotations

import datetime as _dt
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from edgekv.config.diagnostics import Diagnostics, js_json
from edgekv.config.model import (
    D1DatabaseBinding,
    DurableObjectBinding,
    KVNamespaceBinding,
    WorkflowBinding,
)
from edgekv.config.validation import unexpected_fields
from edgekv.js import undefined

__all__ = [
    "FRIENDLY_BINDING_NAMES",
    "check_python_identifiers",
    "check_unique_binding_names",
    "english_list",
    "suggest_binding_name",
    "validate_d1_databases",
    "validate_durable_objects",
    "validate_kv_namespaces",
    "validate_vars",
    "validate_workflows",
]

#: Binding fields in wrangler's order (``friendlyBindingNames``), with their display names.
FRIENDLY_BINDING_NAMES: Mapping[str, str] = MappingProxyType({
    "data_blobs": "Data Blob", "durable_objects": "Durable Object",
    "kv_namespaces": "KV Namespace", "send_email": "Send Email", "d1_databases": "D1 Database",
    "vectorize": "Vectorize Index", "ai_search_namespaces": "AI Search Namespace",
    "ai_search": "AI Search Instance", "websearch": "Web Search", "agent_memory": "Agent Memory",
    "hyperdrive": "Hyperdrive Config", "r2_buckets": "R2 Bucket", "logfwdr": "logfwdr",
    "services": "Worker", "analytics_engine_datasets": "Analytics Engine Dataset",
    "text_blobs": "Text Blob", "browser": "Browser Run", "ai": "AI", "images": "Images",
    "stream": "Stream", "media": "Media", "version_metadata": "Worker Version Metadata",
    "vars": "Environment Variable", "wasm_modules": "Wasm Module",
    "dispatch_namespaces": "Dispatch Namespace", "mtls_certificates": "mTLS Certificate",
    "workflows": "Workflow", "pipelines": "Pipeline",
    "secrets_store_secrets": "Secrets Store Secret", "artifacts": "Artifacts",
    "ratelimits": "Rate Limit", "assets": "Assets", "unsafe_hello_world": "Hello World",
    "flagship": "Flagship", "worker_loaders": "Worker Loader", "vpc_services": "VPC Service",
    "vpc_networks": "VPC Network",
})

_KV_KEYS = ("binding", "id", "preview_id", "remote")
_DO_KEYS = ("class_name", "environment", "name", "script_name")


def _field_path(field: str, env_name: str | None) -> str:
    return field if env_name is None else f"env.{env_name}.{field}"


def validate_vars(
    d: Diagnostics, value: object, env_name: str | None, top_vars: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """Validate ``vars`` present in the raw config; None when not an object.

    In a named environment (``env_name``), top-level vars missing here are reported as one
    warning, because vars are not inherited.
    """
    path = _field_path("vars", env_name)
    if not isinstance(value, dict):
        d.error(f'The field "{path}" should be an object but got {js_json(value)}.', path)
        return None
    ok = True
    for name, item in value.items():
        if isinstance(item, _dt.date | _dt.time):
            d.error(
                f'The field "{path}.{name}" is a TOML date, which is not supported. '
                f'Please use a string instead, e.g. {name} = "2025-12-19".',
                f"{path}.{name}",
            )
            ok = False
    if env_name is not None and top_vars:
        missing = [name for name in top_vars if name not in value]
        if missing:
            d.warn(
                f'The following vars exist at the top level, but not on "{path}".\n'
                'This is probably not what you want, since "vars" configuration is not '
                "inherited by environments.\n"
                f'Please add these vars to "env.{env_name}.vars":\n'
                + "\n".join(f"- {name}" for name in missing),
                path,
            )
    if not ok:
        value = {k: v for k, v in value.items() if not isinstance(v, _dt.date | _dt.time)}
    return MappingProxyType(dict(value))


def validate_kv_namespaces(
    d: Diagnostics,
    value: object,
    env_name: str | None,
    top_kv: Sequence[KVNamespaceBinding] | None,
) -> tuple[KVNamespaceBinding, ...] | None:
    """Validate ``kv_namespaces`` present in the raw config; None when not an array.

    Invalid entries are reported and left out, so later checks still see the valid ones.

    ``id`` may be absent (wrangler's automatic provisioning; locally the binding name is the
    id) but not empty. In a named environment, top-level bindings missing here warn.
    """
    path = _field_path("kv_namespaces", env_name)
    if not isinstance(value, list):
        d.error(f'The field "{path}" should be an array but got {js_json(value)}.', path)
        return None
    result: list[KVNamespaceBinding] = []
    for i, entry in enumerate(value):
        binding = _validate_kv_entry(d, f"{path}[{i}]", entry)
        if binding is not None:
            result.append(binding)
    if env_name is not None and top_kv:
        present = {e.get("binding") for e in value if isinstance(e, dict)}
        for kv in top_kv:
            if kv.binding not in present:
                d.warn(
                    f'There is a kv_namespaces binding with name "{kv.binding}" at the top '
                    f'level, but not on "env.{env_name}".\n'
                    'This is not what you probably want, since "kv_namespaces" configuration '
                    "is not inherited by environments.\n"
                    f'Please add a binding for "{kv.binding}" to '
                    f'"env.{env_name}.kv_namespaces.bindings".',
                    path,
                )
    return tuple(result)


def _validate_kv_entry(d: Diagnostics, field: str, entry: object) -> KVNamespaceBinding | None:
    if not isinstance(entry, dict):
        d.error(f'"kv_namespaces" bindings should be objects, but got {js_json(entry)}', field)
        return None
    ok = True
    if not isinstance(entry.get("binding"), str):
        d.error(f'"{field}" bindings should have a string "binding" field but got '
                f"{js_json(entry)}.", f"{field}.binding")
        ok = False
    kv_id = entry.get("id", undefined)
    if kv_id is not undefined and (not isinstance(kv_id, str) or kv_id == ""):
        d.error(f'"{field}" bindings should have a string "id" field but got {js_json(entry)}.',
                f"{field}.id")
        ok = False
    preview_id = entry.get("preview_id", undefined)
    if preview_id is not undefined and not isinstance(preview_id, str):
        d.error(f'"{field}" bindings should, optionally, have a string "preview_id" field but '
                f"got {js_json(entry)}.", f"{field}.preview_id")
        ok = False
    remote = entry.get("remote", undefined)
    if remote is not undefined and not isinstance(remote, bool):
        d.error(f'"{field}" bindings should, optionally, have a boolean "remote" field but got '
                f"{js_json(entry)}.", f"{field}.remote")
        ok = False
    unexpected_fields(d, field, entry.keys(), _KV_KEYS, path=field)
    if not ok:
        return None
    if remote is True:
        d.warn(f'"{field}" sets "remote" to true, but edgekv has no remote bindings: '
               "the binding uses local storage.", f"{field}.remote")
    return KVNamespaceBinding(
        binding=entry["binding"],
        id=None if kv_id is undefined else kv_id,
        preview_id=None if preview_id is undefined else preview_id,
        remote=remote is True,
    )


def validate_durable_objects(
    d: Diagnostics,
    value: object,
    env_name: str | None,
    top_bindings: Sequence[DurableObjectBinding] | None,
) -> tuple[DurableObjectBinding, ...] | None:
    """Validate ``durable_objects`` present in the raw config; None when malformed.

    Invalid entries are reported and left out, so later checks still see the valid ones.

    Each binding's findings go in a child node named after the binding, as in wrangler.
    """
    path = _field_path("durable_objects", env_name)
    if not isinstance(value, dict):
        d.error(f'The field "{path}" should be an object but got {js_json(value)}.', path)
        return None
    if "bindings" not in value:
        d.error(f'The field "{path}" is missing the required "bindings" property.', path)
        return None
    bindings = value["bindings"]
    if not isinstance(bindings, list):
        d.error(f'The field "{path}.bindings" should be an array but got {js_json(bindings)}.',
                f"{path}.bindings")
        return None
    result: list[DurableObjectBinding] = []
    for i, entry in enumerate(bindings):
        field = f"{path}.bindings[{i}]"
        child = d.child(f'"{field}": {js_json(entry)}')
        binding = _validate_do_entry(child, field, entry)
        d.add_child(child)
        if binding is not None:
            result.append(binding)
    if len(result) == len(bindings) and env_name is not None and top_bindings:
        names = {b.name for b in result}
        missing = [b.name for b in top_bindings if b.name not in names]
        if missing:
            d.warn(
                f'The following bindings are at the top level, but not on "env.{env_name}".\n'
                'This is not what you probably want, since "durable_objects" configuration is '
                "not inherited by environments.\n"
                f'Please add a binding for each to "{path}.bindings":\n'
                + "\n".join(f"- {name}" for name in missing),
                f"{path}.bindings",
            )
    return tuple(result)


def _validate_do_entry(d: Diagnostics, field: str, entry: object) -> DurableObjectBinding | None:
    if not isinstance(entry, dict):
        d.error(f'Expected "{field}" to be an object but got {js_json(entry)}', field)
        return None
    ok = True
    for key in ("name", "class_name"):
        if not isinstance(entry.get(key), str):
            d.error(f'binding should have a string "{key}" field.', f"{field}.{key}")
            ok = False
    for key in ("script_name", "environment"):
        if key in entry and not isinstance(entry[key], str):
            d.error(f'the field "{key}", when present, should be a string.', f"{field}.{key}")
            ok = False
    if "environment" in entry and "script_name" not in entry:
        d.error('binding should have a "script_name" field if "environment" is present.',
                f"{field}.environment")
        ok = False
    unexpected_fields(d, field, entry.keys(), _DO_KEYS, path=field)
    if not ok:
        return None
    return DurableObjectBinding(
        name=entry["name"],
        class_name=entry["class_name"],
        script_name=entry.get("script_name"),
        environment=entry.get("environment"),
    )


def english_list(items: Sequence[str]) -> str:
    """``Intl.ListFormat("en-US")``: ``A``, ``A and B``, ``A, B, and C``."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f", and {items[-1]}"


def _binding_names(value: object) -> list[str]:
    """wrangler's ``getBindingNames`` for one binding field's (raw or resolved) value."""
    if isinstance(value, dict):
        bindings = value.get("bindings")
        if isinstance(bindings, list) and all(
            isinstance(b, dict) and isinstance(b.get("name"), str) for b in bindings
        ):
            return [b["name"] for b in bindings]
        if "binding" in value:
            return [str(value["binding"])]
        return [k for k, v in value.items() if v is not None]
    if isinstance(value, list) and all(
        isinstance(e, dict) and isinstance(e.get("binding"), str) for e in value
    ):
        return [e["binding"] for e in value]
    return []


def check_unique_binding_names(d: Diagnostics, fields: Mapping[str, object]) -> bool:
    """Error when one name is used by several bindings (wrangler's
    ``validateBindingsHaveUniqueNames``). ``fields`` maps binding field names (keys of
    ``FRIENDLY_BINDING_NAMES``) to their values in the resolved environment.
    """
    by_name: dict[str, list[str]] = {}
    for field, friendly in FRIENDLY_BINDING_NAMES.items():
        for name in _binding_names(fields.get(field)):
            by_name.setdefault(name, []).append(friendly)
    has_duplicates = False
    for name, types in by_name.items():
        if len(types) < 2:
            continue
        has_duplicates = True
        distinct = list(dict.fromkeys(types))
        if len(distinct) > 1:
            d.error(f"{name} assigned to {english_list(distinct)} bindings.", name)
        repeated = [t for t in distinct if types.count(t) > 1]
        for friendly in repeated:
            d.error(f"{name} assigned to multiple {friendly} bindings.", name)
    if has_duplicates:
        d.error(
            "Bindings must have unique names, so that they can all be referenced in the worker.\n"
            "Please change your bindings to have unique names."
        )
    return not has_duplicates


def suggest_binding_name(name: str) -> str:
    """A Python-usable binding name derived from ``name``.

    wrangler's ``getValidBindingName``: whitespace and ``-`` become ``_``, other characters
    outside ``[A-Za-z0-9_]`` are dropped, runs of ``_`` collapse, a leading digit gets ``_``,
    and the fallback is ``KV``; a Python keyword additionally gets a trailing ``_``.
    """
    cleaned = re.sub(r"[\s-]", "_", name)
    cleaned = re.sub(r"[^A-Za-z0-9_]", "", cleaned)
    cleaned = re.sub(r"_+", "_", cleaned)
    if cleaned[:1].isdigit():
        cleaned = f"_{cleaned}"
    cleaned = cleaned or "KV"
    return f"{cleaned}_" if keyword.iskeyword(cleaned) else cleaned


def check_python_identifiers(d: Diagnostics, names: Iterable[tuple[str, str]]) -> None:
    """Warn for each ``(field_path, name)`` whose name cannot be written as ``env.<name>``.

    wrangler accepts any string, and such a binding still works through
    ``getattr(env, name)``, so this is a warning rather than an error.
    """
    for path, name in names:
        if name.isidentifier() and not keyword.iskeyword(name):
            continue
        why = "a Python keyword" if keyword.iskeyword(name) else "not a valid Python identifier"
        d.warn(
            f'The binding name {js_json(name)} ("{path}") is {why}, so Python code can only '
            f"reach it as getattr(env, {js_json(name)}). "
            f'Consider renaming it to "{suggest_binding_name(name)}".',
            path,
        )




_D1_KEYS = ("binding", "database_name", "database_id", "preview_database_id",
            "migrations_dir", "migrations_table", "database_internal_env", "remote")
_WORKFLOW_KEYS = ("binding", "name", "class_name", "script_name", "remote", "limits")


def _entries(d: Diagnostics, field: str, value: object) -> list[tuple[str, dict[str, Any]]]:
    """The object entries of a binding array, each with its path; errors for the rest."""
    if value is undefined:
        return []
    if not isinstance(value, list):
        d.error(f'The field "{field}" should be an array but got {js_json(value)}.', field)
        return []
    found = []
    for i, entry in enumerate(value):
        path = f"{field}[{i}]"
        if not isinstance(entry, dict):
            d.error(f'"{path}" bindings should be objects, but got {js_json(entry)}', path)
            continue
        found.append((path, entry))
    return found


def _string_field(d: Diagnostics, path: str, entry: Mapping[str, Any], key: str,
                  *, required: bool) -> bool:
    value = entry.get(key, undefined)
    if value is undefined and not required:
        return True
    if not isinstance(value, str):
        d.error(f'"{path}" bindings should have a string "{key}" field but got '
                f"{js_json(entry)}.", path)
        return False
    return True


def validate_d1_databases(d: Diagnostics, value: object, prefix: str = ""
                          ) -> tuple[D1DatabaseBinding, ...]:
    """Valid ``d1_databases`` entries (wrangler's ``validateD1Binding``); errors for the rest.

    ``binding`` is required; a local database needs one of ``database_id``,
    ``preview_database_id`` or ``database_name`` to name its file (wrangler provisions
    the id on deploy, so none is an error only when all are missing).
    """
    result = []
    for path, entry in _entries(d, f"{prefix}d1_databases", value):
        ok = _string_field(d, path, entry, "binding", required=True)
        for key in ("database_name", "database_id", "preview_database_id", "migrations_dir",
                    "migrations_table"):
            ok = _string_field(d, path, entry, key, required=False) and ok
        unexpected_fields(d, path, entry.keys(), _D1_KEYS, path=path)
        if ok:
            result.append(D1DatabaseBinding(
                binding=entry["binding"],
                database_name=entry.get("database_name"),
                database_id=entry.get("database_id"),
                preview_database_id=entry.get("preview_database_id"),
                migrations_dir=entry.get("migrations_dir"),
                migrations_table=entry.get("migrations_table"),
            ))
    return tuple(result)


def validate_workflows(d: Diagnostics, value: object, prefix: str = ""
                       ) -> tuple[WorkflowBinding, ...]:
    """Valid ``workflows`` entries (wrangler's ``validateWorkflowBinding``): ``binding``,
    ``name`` and ``class_name`` are required strings."""
    result = []
    for path, entry in _entries(d, f"{prefix}workflows", value):
        ok = True
        for key in ("binding", "name", "class_name"):
            ok = _string_field(d, path, entry, key, required=True) and ok
        ok = _string_field(d, path, entry, "script_name", required=False) and ok
        unexpected_fields(d, path, entry.keys(), _WORKFLOW_KEYS, path=path)
        if ok:
            result.append(WorkflowBinding(name=entry["name"], binding=entry["binding"],
                                          class_name=entry["class_name"],
                                          script_name=entry.get("script_name")))
    return tuple(result)
