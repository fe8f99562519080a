"""wrangler.toml / wrangler.json / wrangler.jsonc -> frozen dataclasses plus diagnostics.

Reads the same files as wrangler, with wrangler's discovery, environment inheritance,
validation messages and ``.dev.vars``/``.env`` precedence. Never touches storage; imports only
the standard library, ``json5`` and ``edgekv.errors``.

Typical use::

    config = load_config(env="staging")          # raises ConfigError on mistakes
    if config.diagnostics.has_warnings():
        print(config.diagnostics.render_warnings())
    store_url = config.kv_store_url(persist_to)  # sqlite:////abs/.edgekv/kv.sqlite3
    ns_id = config.kv_namespace("MY_KV").local_id(preview=True)
"""

from edgekv.config.diagnostics import Diagnostic, Diagnostics
from edgekv.config.discovery import CONFIG_FILE_NAMES, find_config, resolve_config_path
from edgekv.config.dotenv import DevVars, load_dev_vars, parse_dotenv
from edgekv.config.loader import format_report, load_config, validate_raw_config
from edgekv.config.migrations import ClassStorage, class_storage
from edgekv.config.model import (
    DEFAULT_DEV_PORT,
    AssetsConfig,
    Config,
    DevSettings,
    DurableObjectBinding,
    KVNamespaceBinding,
    Migration,
    RenamedClass,
    TransferredClass,
    UnsupportedBinding,
)
from edgekv.config.state import StatePaths, state_paths

__all__ = [
    "CONFIG_FILE_NAMES",
    "DEFAULT_DEV_PORT",
    "AssetsConfig",
    "ClassStorage",
    "Config",
    "DevSettings",
    "DevVars",
    "Diagnostic",
    "Diagnostics",
    "DurableObjectBinding",
    "KVNamespaceBinding",
    "Migration",
    "RenamedClass",
    "StatePaths",
    "TransferredClass",
    "UnsupportedBinding",
    "class_storage",
    "find_config",
    "format_report",
    "load_config",
    "load_dev_vars",
    "parse_dotenv",
    "resolve_config_path",
    "state_paths",
    "validate_raw_config",
]
