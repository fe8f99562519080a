from __future__ import annotations

import ast
from pathlib import Path

import edgekv.config as config_package
from edgekv.config import (
    Config,
    DevSettings,
    DurableObjectBinding,
    KVNamespaceBinding,
    Migration,
    RenamedClass,
    TransferredClass,
    class_storage,
)


def test_local_id_prefers_preview_id_in_preview() -> None:
    both = KVNamespaceBinding("KV", id="prod", preview_id="prev")
    assert both.local_id(preview=True) == "prev"
    assert both.local_id(preview=False) == "prod"
    only_id = KVNamespaceBinding("KV", id="prod")
    assert only_id.local_id(preview=True) == "prod"
    no_id = KVNamespaceBinding("KV")
    assert no_id.local_id(preview=True) == no_id.local_id(preview=False) == "KV"
    assert KVNamespaceBinding("KV", preview_id="p").local_id(preview=False) == "KV"


def test_class_storage_replays_migrations() -> None:
    migrations = [
        Migration("v1", new_classes=("Old",), new_sqlite_classes=("A", "B")),
        Migration("v2", renamed_classes=(RenamedClass("A", "A2"),), deleted_classes=("B",)),
        Migration("v3", transferred_classes=(TransferredClass("T", "other", "T2"),)),
    ]
    assert class_storage(migrations) == {"Old": "kv", "A2": "sqlite", "T2": "sqlite"}


def test_durable_object_storage_defaults_uncovered_local_classes_to_sqlite() -> None:
    config = Config(
        durable_objects=(DurableObjectBinding("A", "Alpha"), DurableObjectBinding("B", "Beta"),
                         DurableObjectBinding("R", "Remote", script_name="other")),
        migrations=(Migration("v1", new_classes=("Alpha",)),),
    )
    assert config.durable_object_storage() == {"Alpha": "kv", "Beta": "sqlite"}


def test_dev_defaults_match_wrangler() -> None:
    dev = DevSettings()
    assert (dev.ip, dev.port, dev.effective_port, dev.local_protocol) == (
        "localhost", None, 8787, "http")
    assert DevSettings(port=9000).effective_port == 9000


def test_config_is_frozen() -> None:
    config = Config(vars={"A": "1"})
    try:
        config.name = "x"  # type: ignore[misc]
    except AttributeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("Config must be frozen")


ALLOWED_IMPORTS = {"json5", "edgekv.errors", "edgekv.suggest", "edgekv.js"}


def test_config_layer_imports_only_stdlib_json5_and_errors() -> None:
    import sys

    package_dir = Path(config_package.__file__).parent
    for module in package_dir.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                ok = (name in ALLOWED_IMPORTS or name.startswith("edgekv.config")
                      or top in sys.stdlib_module_names)
                assert ok, f"{module.name} imports {name}"
