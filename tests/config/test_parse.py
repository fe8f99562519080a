from pathlib import Path

import pytest

from edgekv.config import KVNamespaceBinding, load_config
from edgekv.errors import ConfigError

TOML = """
name = "my-worker"
main = "src/entry.py"
compatibility_date = "2025-01-01"
compatibility_flags = ["python_workers"]
[vars]
API_HOST = "example.com"
[[kv_namespaces]]
binding = "MY_KV"
id = "abc123"
preview_id = "prev456"
"""

JSONC = """
// a comment, as wrangler.jsonc allows
{
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "my-worker",
  "main": "src/entry.py",
  /* block comment */
  "compatibility_date": "2025-01-01",
  "compatibility_flags": ["python_workers"],
  "vars": {"API_HOST": "example.com"},
  "kv_namespaces": [{"binding": "MY_KV", "id": "abc123", "preview_id": "prev456"},],
}
"""

JSON = """
{"name": "my-worker", "main": "src/entry.py", "compatibility_date": "2025-01-01",
 "compatibility_flags": ["python_workers"], "vars": {"API_HOST": "example.com"},
 "kv_namespaces": [{"binding": "MY_KV", "id": "abc123", "preview_id": "prev456"}]}
"""


@pytest.mark.parametrize(
    ("file_name", "text"),
    [("wrangler.toml", TOML), ("wrangler.jsonc", JSONC), ("wrangler.json", JSON)],
)
def test_each_format_gives_the_same_config(tmp_path: Path, file_name: str, text: str) -> None:
    (tmp_path / file_name).write_text(text)
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    assert config.config_path == tmp_path / file_name
    assert config.name == "my-worker"
    assert config.main == "src/entry.py"
    assert config.main_path == tmp_path / "src" / "entry.py"
    assert config.compatibility_date == "2025-01-01"
    assert config.compatibility_flags == ("python_workers",)
    assert dict(config.vars) == {"API_HOST": "example.com"}
    assert config.kv_namespaces == (KVNamespaceBinding("MY_KV", "abc123", "prev456"),)
    assert not config.diagnostics.has_warnings()


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "w"\nmain\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, cwd=tmp_path, environ={})
    assert str(info.value) == (
        "Could not parse wrangler.toml (TOML): Expected '=' after a key in a key/value pair\n"
        "\n"
        "    wrangler.toml:2:5:\n"
        "      2 │ main\n"
        "        ╵     ^"
    )
    (diagnostic,) = info.value.diagnostics.all_errors()
    assert (diagnostic.line, diagnostic.column) == (2, 5)
    assert diagnostic.file == tmp_path / "wrangler.toml"


def test_jsonc_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "wrangler.jsonc").write_text('{\n  "name": "w",\n  "main" "x"\n}\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, cwd=tmp_path, environ={})
    assert str(info.value).startswith('Could not parse wrangler.jsonc (JSON): Unexpected ""')
    assert "wrangler.jsonc:3:10:" in str(info.value)
    assert '      3 │   "main" "x"' in str(info.value)


def test_root_must_be_an_object(tmp_path: Path) -> None:
    (tmp_path / "wrangler.json").write_text("[1, 2]")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, cwd=tmp_path, environ={})
    assert str(info.value) == 'The configuration file "wrangler.json" must contain a JSON object.'


def test_error_report_path_is_relative_to_cwd(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "wrangler.toml").write_text("name = 5")
    with pytest.raises(ConfigError) as info:
        load_config(project, cwd=tmp_path, environ={})
    assert str(info.value) == (
        "✘ [ERROR] Processing project/wrangler.toml configuration:\n\n"
        '    - Expected "name" to be of type string, alphanumeric and lowercase with dashes only '
        "but got 5.\n"
    )
