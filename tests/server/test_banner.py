"""The bindings table printed by `edgekv dev`."""

from __future__ import annotations

from pathlib import Path

from edgekv.config import load_config
from edgekv.server.banner import HEADER, bindings_table

TOML = """\
name = "b"
main = "src/entry.py"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "TODO", id = "prod", preview_id = "prev" }]

[vars]
API_HOST = "example.com"
LIMIT = 3

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""


def test_table_lists_every_binding_and_hides_secrets(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(TOML)
    (tmp_path / ".dev.vars").write_text("API_TOKEN=very-secret\n")
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    table = bindings_table(config, {"EXTRA": "from-cli"})
    lines = table.splitlines()
    assert lines[0] == HEADER
    assert lines[1].split() == ["Binding", "Resource", "Mode"]
    body = "\n".join(lines[2:])
    assert "env.COUNTER (Counter)" in body and "Durable Object" in body
    assert "env.TODO (prev)" in body and "KV Namespace" in body
    assert 'env.API_HOST ("example.com")' in body and "env.LIMIT (3)" in body
    assert 'env.API_TOKEN ("(hidden)")' in body and "very-secret" not in body
    assert 'env.EXTRA ("from-cli")' in body
    assert all(line.rstrip().endswith("local") for line in lines[2:])


def test_no_bindings(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "x"\n')
    assert bindings_table(load_config(tmp_path, cwd=tmp_path, environ={})) == "No bindings found."
