"""``load_config``: find, parse, validate and resolve a wrangler configuration.

The one entry point the rest of edgekv uses. It never raises anything but ``ConfigError``
for a bad config, and collects every problem before raising.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from edgekv.config.bindings import check_python_identifiers, check_unique_binding_names
from edgekv.config.diagnostics import Diagnostics, format_message, js_json
from edgekv.config.discovery import CONFIG_FILE_NAMES, resolve_config_path
from edgekv.config.dotenv import load_dev_vars
from edgekv.config.environments import (
    ENVIRONMENT_KEYS,
    TOP_LEVEL_ONLY_KEYS,
    Environment,
    normalize_environment,
    select_environment,
)
from edgekv.config.model import Config
from edgekv.config.parse import display_path, read_raw_config
from edgekv.config.validation import unexpected_fields, validate_dev
from edgekv.errors import ConfigError
from edgekv.js import undefined

__all__ = ["format_report", "load_config", "validate_raw_config"]

_LEGACY_ENV = (
    'The "legacy_env" field is no longer supported, so please remove it from your '
    "configuration file.\n"
    'Service environments have been removed, and each environment is now deployed as its own '
    'Worker named "<name>-<environment>". This matches the behaviour of "legacy_env = true", '
    "which was the default, so removing the field will not change how your Worker is "
    "deployed.\n"
    "Refer to https://developers.cloudflare.com/workers/wrangler/environments/ for more "
    "information."
)


def load_config(
    path_or_dir: str | Path | None = None,
    *,
    env: str | None = None,
    cwd: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    require_file: bool = False,
) -> Config:
    """Load the configuration for ``path_or_dir`` resolved for environment ``env``.

    ``path_or_dir``: a config file (like ``--config``), a directory to search upward from, or
    None for ``cwd``. ``env`` defaults to ``CLOUDFLARE_ENV`` from ``environ`` (default
    ``os.environ``). Secrets from ``.dev.vars``/``.env`` are read into ``Config.secrets``.

    Without a config file, returns a default ``Config`` (``config_path`` None), as wrangler
    runs without one, unless ``require_file`` is set. Raises ``ConfigError`` whose ``str`` is
    the full report (every error, then every warning) and whose ``diagnostics`` is the tree.
    Warnings of a usable config are in ``Config.diagnostics``.
    """
    base = Path(cwd).resolve() if cwd is not None else Path.cwd()
    environ = os.environ if environ is None else environ
    env = env or environ.get("CLOUDFLARE_ENV") or None
    path = resolve_config_path(path_or_dir, cwd=base)
    if path is None:
        if require_file:
            names = ", ".join(CONFIG_FILE_NAMES)
            message = f"Could not find a configuration file ({names}) in {base} or its parents."
            diagnostics = Diagnostics("Processing wrangler configuration:")
            diagnostics.error(message)
            raise ConfigError(message, diagnostics)
        raw: dict[str, Any] = {}
    else:
        raw = read_raw_config(path, cwd=base)
    config = validate_raw_config(raw, path, env=env, cwd=base)
    return _with_secrets(config, base, environ)


def validate_raw_config(
    raw: Mapping[str, Any],
    config_path: Path | None,
    *,
    env: str | None = None,
    cwd: Path | None = None,
) -> Config:
    """Validate an already parsed config. Raises ``ConfigError`` when any error is found."""
    shown = display_path(config_path, cwd) if config_path is not None else "wrangler"
    file_name = config_path.name if config_path is not None else "wrangler.toml"
    d = Diagnostics(f"Processing {shown} configuration:", config_path)
    if "legacy_env" in raw:
        d.error(_LEGACY_ENV, "legacy_env")
    if raw.get("$schema", undefined) is not undefined and not isinstance(raw["$schema"], str):
        d.error(f'Expected "$schema" to be of type string but got {js_json(raw["$schema"])}.',
                "$schema")
    envs = raw.get("env", undefined)
    if envs is not undefined and not isinstance(envs, dict):
        d.error('Expected "env" to be of type object.', "env")
    top = normalize_environment(d, raw, config_file_name=file_name)
    active = select_environment(d, raw, top, env, file_name)
    dev = validate_dev(d, raw.get("dev", undefined))
    env_defined = bool(env) and isinstance(envs, dict) and isinstance(envs.get(env), dict)
    _check_active(d, active, f"env.{env}." if env_defined else "")
    unexpected_fields(d, "top-level", raw.keys(),
                      ENVIRONMENT_KEYS | TOP_LEVEL_ONLY_KEYS | {"legacy_env"})
    config = Config(
        config_path=config_path,
        env=env,
        name=active.name,
        main=active.main,
        compatibility_date=active.compatibility_date,
        compatibility_flags=active.compatibility_flags,
        vars=active.vars,
        kv_namespaces=active.kv_namespaces,
        durable_objects=active.durable_objects,
        migrations=active.migrations,
        dev=dev,
        secrets_required=active.secrets_required,
        defined_environments=tuple(envs) if isinstance(envs, dict) else (),
        assets=(replace(active.assets, config_dir=config_path.parent if config_path else None)
                if active.assets is not None else None),
        crons=active.crons,
        unsupported_bindings=active.unsupported,
        d1_databases=active.d1_databases,
        workflows=active.workflows,
        diagnostics=d,
    )
    if d.has_errors():
        raise ConfigError(format_report(d), d)
    return config


def _check_active(d: Diagnostics, active: Environment, prefix: str) -> None:
    """Rules on the resolved environment: unique names, identifiers, Python entry point.

    ``prefix`` is ``env.<name>.`` when a defined environment is active, for field paths.
    """
    fields: dict[str, object] = {k: v for k, v in active.raw.items() if k in ENVIRONMENT_KEYS}
    fields["vars"] = dict(active.vars)
    fields["kv_namespaces"] = [{"binding": kv.binding} for kv in active.kv_namespaces]
    fields["durable_objects"] = {"bindings": [{"name": b.name} for b in active.durable_objects]}
    check_unique_binding_names(d, fields)
    names = [(f"{prefix}kv_namespaces[{i}].binding", kv.binding)
             for i, kv in enumerate(active.kv_namespaces)]
    names += [(f"{prefix}durable_objects.bindings[{i}].name", b.name)
              for i, b in enumerate(active.durable_objects)]
    names += [(f"{prefix}vars.{name}", name) for name in active.vars]
    check_python_identifiers(d, names)
    if active.main is not None and active.main.endswith(".py") and (
        "python_workers" not in active.compatibility_flags
    ):
        d.error("The `python_workers` compatibility flag is required to use Python.",
                f"{prefix}compatibility_flags")


def _with_secrets(config: Config, cwd: Path, environ: Mapping[str, str]) -> Config:
    directory = config.config_dir or cwd
    try:
        dev_vars = load_dev_vars(directory, config.env, vars=config.vars,
                                 required=config.secrets_required, environ=environ)
    except (OSError, UnicodeDecodeError) as exc:
        d = config.diagnostics
        d.error(f"Failed to load local dev variables: {exc}")
        raise ConfigError(format_report(d), d) from exc
    if dev_vars.missing_required:
        config.diagnostics.warn(
            f"Missing required secrets: {', '.join(dev_vars.missing_required)}. "
            "Add them to .dev.vars, .env, or set as environment variables.",
            "secrets.required",
        )
    return replace(config, secrets=dev_vars.values, secret_sources=dev_vars.sources)


def format_report(d: Diagnostics) -> str:
    """The human-readable report: errors (``✘ [ERROR]``), then warnings (``▲ [WARNING]``)."""
    parts = []
    if d.has_errors():
        parts.append(format_message("✘ [ERROR]", d.render_errors()))
    if d.has_warnings():
        parts.append(format_message("▲ [WARNING]", d.render_warnings()))
    return "\n".join(parts)
