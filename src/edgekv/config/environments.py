"""Top-level and ``[env.NAME]`` sections, with wrangler's inheritance rules.

Mirrors workers-sdk ``normalizeAndValidateEnvironment``:

- **inheritable** keys (``name``, ``main``, ``compatibility_date``, ``compatibility_flags``,
  ``migrations``, ...) take the environment's value, else the top-level value (``name`` gets
  ``-<env>`` appended), else the default;
- **non-inheritable** keys (every binding, ``vars``, ``secrets``, ``define``) take only the
  environment's value; if the key exists at top level but not in the environment, the
  default (empty) is used and a warning says so;
- ``dev`` and a few others are top-level only and unexpected inside an environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from edgekv.config.assets import unsupported_bindings, validate_assets, validate_triggers
from edgekv.config.bindings import (
    FRIENDLY_BINDING_NAMES,
    validate_d1_databases,
    validate_durable_objects,
    validate_kv_namespaces,
    validate_vars,
    validate_workflows,
)
from edgekv.config.diagnostics import Diagnostics, js_json
from edgekv.config.model import (
    AssetsConfig,
    D1DatabaseBinding,
    DurableObjectBinding,
    KVNamespaceBinding,
    Migration,
    UnsupportedBinding,
    WorkflowBinding,
)
from edgekv.config.validation import (
    check_typed_array,
    unexpected_fields,
    validate_compatibility_date,
    validate_migrations,
    validate_name,
    validate_string,
    validate_string_array,
)
from edgekv.js import undefined
from edgekv.suggest import did_you_mean

__all__ = [
    "ENVIRONMENT_KEYS",
    "TOP_LEVEL_ONLY_KEYS",
    "UNSUPPORTED_BINDING_KEYS",
    "Environment",
    "normalize_environment",
    "select_environment",
]

#: Every key wrangler accepts inside an environment (``Environment`` in workers-utils).
ENVIRONMENT_KEYS: frozenset[str] = frozenset({
    "account_id", "compatibility_date", "compatibility_flags", "jsx_factory", "jsx_fragment",
    "tsconfig", "rules", "name", "main", "find_additional_modules", "preserve_file_names",
    "base_dir", "route", "routes", "triggers", "assets", "limits", "placement", "build",
    "workers_dev", "preview_urls", "vars", "secrets", "define", "durable_objects", "workflows",
    "migrations", "exports", "kv_namespaces", "cloudchamber", "containers", "send_email",
    "queues", "connect", "r2_buckets", "d1_databases", "vectorize", "ai_search_namespaces",
    "ai_search", "websearch", "agent_memory", "hyperdrive", "services",
    "analytics_engine_datasets", "dispatch_namespaces", "mtls_certificates", "tail_consumers",
    "streaming_tail_consumers", "unsafe", "browser", "ai", "images", "stream", "media",
    "pipelines", "secrets_store_secrets", "artifacts", "unsafe_hello_world", "flagship",
    "worker_loaders", "ratelimits", "vpc_services", "vpc_networks", "version_metadata",
    "logfwdr", "no_bundle", "minify", "keep_names", "first_party_worker", "logpush",
    "upload_source_maps", "observability", "access", "cache", "compliance_region",
    "python_modules", "previews", "k2",
})

#: Keys valid only at top level (``ConfigFields`` in workers-utils), plus ``env``/``$schema``.
TOP_LEVEL_ONLY_KEYS: frozenset[str] = frozenset({
    "dev", "env", "$schema", "send_metrics", "dependencies_instrumentation", "keep_vars",
    "addresses", "pages_build_output_dir", "site", "alias", "wasm_modules", "text_blobs",
    "data_blobs",
})

#: Binding fields wrangler knows that edgekv does not provide on ``env`` (yet).
UNSUPPORTED_BINDING_KEYS: frozenset[str] = frozenset(
    (set(FRIENDLY_BINDING_NAMES) | {"queues", "unsafe", "k2"})
    - {"kv_namespaces", "durable_objects", "vars", "assets", "d1_databases", "workflows"}
)


@dataclass
class Environment:
    """The values of one resolved environment (internal to the loader)."""

    name: str | None = None
    account_id: str | None = None
    main: str | None = None
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    kv_namespaces: tuple[KVNamespaceBinding, ...] = ()
    durable_objects: tuple[DurableObjectBinding, ...] = ()
    migrations: tuple[Migration, ...] = ()
    secrets_required: tuple[str, ...] | None = None
    assets: AssetsConfig | None = None
    crons: tuple[str, ...] = ()
    unsupported: tuple[UnsupportedBinding, ...] = ()
    d1_databases: tuple[D1DatabaseBinding, ...] = ()
    workflows: tuple[WorkflowBinding, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


def normalize_environment(
    d: Diagnostics,
    raw_env: Mapping[str, Any],
    *,
    config_file_name: str,
    env_name: str | None = None,
    top: Environment | None = None,
    raw_config: Mapping[str, Any] | None = None,
) -> Environment:
    """Validate one environment; ``env_name``/``top``/``raw_config`` are None at top level."""
    prefix = "" if env_name is None else f"env.{env_name}."
    get = raw_env.get

    def inherited(key: str, validator: Any, default: Any) -> Any:
        value = get(key, undefined)
        ok = validator(d, key, value, prefix=prefix)
        if value is not undefined:
            return value if ok else default
        return getattr(top, key) if top is not None else default

    env = Environment(raw=raw_env)
    env.account_id = inherited("account_id", validate_string, None)
    env.name = inherited("name", validate_name, None)
    if top is not None and "name" not in raw_env:
        env.name = f"{top.name}-{env_name}" if top.name else None
    env.main = inherited("main", validate_string, None)
    env.compatibility_date = inherited("compatibility_date", validate_compatibility_date, None)
    flags = inherited("compatibility_flags", validate_string_array, ())
    env.compatibility_flags = tuple(flags)
    migrations = get("migrations", undefined)
    if migrations is not undefined:
        env.migrations = validate_migrations(d, "migrations", migrations, prefix=prefix) or ()
    elif top is not None:
        env.migrations = top.migrations

    value = get("assets", undefined)
    if value is not undefined:
        env.assets = validate_assets(d, value, prefix=prefix)
    elif top is not None:
        env.assets = top.assets
    value = get("triggers", undefined)
    if value is not undefined:
        env.crons = validate_triggers(d, value, prefix=prefix)
    elif top is not None:
        env.crons = top.crons
    env.unsupported = unsupported_bindings(raw_env, UNSUPPORTED_BINDING_KEYS)
    env.d1_databases = validate_d1_databases(d, raw_env.get("d1_databases", undefined), prefix)
    env.workflows = validate_workflows(d, raw_env.get("workflows", undefined), prefix)

    def not_inherited(key: str) -> object:
        value = get(key, undefined)
        if value is undefined and env_name is not None and raw_config and key in raw_config:
            d.warn(
                f'"{key}" exists at the top level, but not on "env.{env_name}".\n'
                f'This is not what you probably want, since "{key}" is not inherited by '
                "environments.\n"
                f'Please add "{key}" to "env.{env_name}".',
                f"env.{env_name}",
            )
        return value

    value = not_inherited("vars")
    if value is not undefined:
        env.vars = validate_vars(d, value, env_name, top.vars if top else None) or env.vars
    value = not_inherited("kv_namespaces")
    if value is not undefined:
        top_kv = top.kv_namespaces if top else None
        env.kv_namespaces = validate_kv_namespaces(d, value, env_name, top_kv) or ()
    value = not_inherited("durable_objects")
    if value is not undefined:
        top_do = top.durable_objects if top else None
        env.durable_objects = validate_durable_objects(d, value, env_name, top_do) or ()
    value = not_inherited("secrets")
    if value is not undefined:
        env.secrets_required = _validate_secrets(d, value, prefix)
    for key in sorted(ENVIRONMENT_KEYS - {"vars", "kv_namespaces", "durable_objects",
                                          "secrets"}):
        if _is_non_inheritable(key) and raw_env.get(key, undefined) is undefined:
            not_inherited(key)
    _warn_unsupported_bindings(d, raw_env, prefix)
    warn_durable_objects_without_migrations(d, env, config_file_name, prefix)
    if env_name is not None:
        unexpected_fields(d, f"env.{env_name}", raw_env.keys(), ENVIRONMENT_KEYS,
                          path=f"env.{env_name}")
    return env


def _is_non_inheritable(key: str) -> bool:
    return key in UNSUPPORTED_BINDING_KEYS or key in {
        "d1_databases", "workflows",
        "define", "cloudchamber", "containers", "connect", "tail_consumers",
        "streaming_tail_consumers",
    }


def _validate_secrets(d: Diagnostics, value: object, prefix: str) -> tuple[str, ...] | None:
    path = f"{prefix}secrets"
    if not isinstance(value, dict):
        d.error(f'The field "{path}" should be an object but got {js_json(value)}.', path)
        return None
    unexpected_fields(d, path, value.keys(), ("required",), path=path)
    required = value.get("required", undefined)
    if not check_typed_array(d, f"{path}.required", required, "string"):
        return None
    return None if required is undefined else tuple(required)


def _warn_unsupported_bindings(d: Diagnostics, raw_env: Mapping[str, Any], prefix: str) -> None:
    for key in sorted(UNSUPPORTED_BINDING_KEYS & raw_env.keys()):
        if raw_env[key]:
            d.warn(f'"{prefix}{key}" bindings are not supported by edgekv yet; '
                   "they will be missing from env.", f"{prefix}{key}")


def warn_durable_objects_without_migrations(
    d: Diagnostics, env: Environment, config_file_name: str, prefix: str = ""
) -> None:
    """Warn about Durable Object classes of this Worker that no migration creates.

    With no migrations at all this is wrangler 4.86's warning, with a suggested
    ``[[migrations]]`` block. When migrations exist but skip a class (wrangler says nothing
    locally; deploy would fail), edgekv warns too and treats the class as SQLite-backed.
    """
    local = [b for b in env.durable_objects if b.is_local]
    if not local:
        return
    classes = list(dict.fromkeys(b.class_name for b in local))
    if not env.migrations:
        snippet = _migration_snippet(classes, config_file_name)
        d.warn(
            f"In your {config_file_name} file, you have configured `durable_objects` exported "
            f"by this Worker ({', '.join(classes)}), but no `migrations` for them. This may not "
            "work as expected until you add a `migrations` section to your "
            f"{config_file_name} file. Add the following configuration:\n\n"
            f"```\n{snippet}\n```\n\n"
            "Refer to https://developers.cloudflare.com/durable-objects/reference/"
            "durable-objects-migrations/ for more details.",
            f"{prefix}durable_objects",
        )
        return
    from edgekv.config.migrations import class_storage

    known = class_storage(env.migrations)
    for binding in local:
        if binding.class_name not in known:
            d.warn(
                f'The Durable Object class "{binding.class_name}" (binding "{binding.name}") is '
                "not created by any migration. Add it to `new_sqlite_classes` in a new "
                "`migrations` entry; until then edgekv treats it as SQLite-backed.",
                f"{prefix}durable_objects",
            )


def _migration_snippet(classes: list[str], config_file_name: str) -> str:
    if config_file_name.endswith(".toml"):
        names = ", ".join(js_json(c) for c in classes)
        return f'[[migrations]]\ntag = "v1"\nnew_sqlite_classes = [ {names} ]'
    names = ",\n".join(f"        {js_json(c)}" for c in classes)
    return (
        '{\n  "migrations": [\n    {\n      "tag": "v1",\n      "new_sqlite_classes": [\n'
        f"{names}\n      ]\n    }}\n  ]\n}}"
    )


def select_environment(
    d: Diagnostics,
    raw: Mapping[str, Any],
    top: Environment,
    env_name: str | None,
    config_file_name: str,
) -> Environment:
    """The environment the Worker runs in: ``top`` or ``[env.<env_name>]`` resolved over it.

    Naming an environment the config does not define is an error when the config defines
    other environments, and only a warning when it defines none (wrangler's rule); the
    top-level values are then used, with ``-<env>`` appended to the name.
    """
    if not env_name:
        return top
    envs = raw.get("env", undefined)
    raw_env = envs.get(env_name, undefined) if isinstance(envs, dict) else undefined
    if isinstance(raw_env, dict):
        child = d.child(f'"env.{env_name}" environment configuration')
        active = normalize_environment(child, raw_env, config_file_name=config_file_name,
                                       env_name=env_name, top=top, raw_config=raw)
        d.add_child(child)
        return active
    if raw_env is not undefined:
        d.error(f'Expected "env.{env_name}" to be of type object but got {js_json(raw_env)}.',
                f"env.{env_name}")
        return top
    names = f"The available configured environment names are: {js_json(list(envs))}\n" \
        if isinstance(envs, dict) else ""
    close = did_you_mean(env_name, envs) if isinstance(envs, dict) else None
    if close is not None:
        names += f'Did you mean "{close}"?\n'

    message = (
        f'No environment found in configuration with name "{env_name}".\n'
        f"Before using `--env={env_name}` there should be an equivalent environment section "
        "in the configuration.\n"
        f"{names}\n"
        f"Consider adding an environment configuration section to the {config_file_name} "
        f"file:\n```\n[env.{env_name}]\n```\n"
    )
    if names:
        d.error(message, f"env.{env_name}")
    else:
        d.warn(message, f"env.{env_name}")
    return replace(top, name=f"{top.name}-{env_name}" if top.name else None)
