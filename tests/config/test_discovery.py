from pathlib import Path

import pytest

from edgekv.config import find_config, load_config, resolve_config_path
from edgekv.errors import ConfigError


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (["wrangler.toml", "wrangler.jsonc", "wrangler.json"], "wrangler.json"),
        (["wrangler.toml", "wrangler.jsonc"], "wrangler.jsonc"),
        (["wrangler.toml"], "wrangler.toml"),
    ],
)
def test_precedence_in_one_directory(tmp_path: Path, present: list[str], expected: str) -> None:
    for name in present:
        (tmp_path / name).write_text("{}" if "json" in name else "")
    assert find_config(tmp_path) == tmp_path / expected


def test_search_walks_up_from_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "w"')
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True)
    assert find_config(sub) == tmp_path / "wrangler.toml"


def test_json_in_a_parent_beats_toml_in_cwd(tmp_path: Path) -> None:
    # wrangler searches name by name (findUpSync per file name), not directory by directory.
    (tmp_path / "wrangler.json").write_text("{}")
    sub = tmp_path / "app"
    sub.mkdir()
    (sub / "wrangler.toml").write_text("")
    assert find_config(sub) == tmp_path / "wrangler.json"


def test_nothing_found(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None


def test_directory_named_like_a_config_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "wrangler.json").mkdir()
    (tmp_path / "wrangler.toml").write_text("")
    assert find_config(tmp_path) == tmp_path / "wrangler.toml"


def test_explicit_file_bypasses_search(tmp_path: Path) -> None:
    (tmp_path / "wrangler.json").write_text("{}")
    other = tmp_path / "custom.toml"
    other.write_text('name = "custom"')
    assert resolve_config_path("custom.toml", cwd=tmp_path) == other
    assert load_config(other, cwd=tmp_path, environ={}).name == "custom"


def test_explicit_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", cwd=tmp_path, environ={})
    assert str(info.value) == 'The configuration file "nope.toml" does not exist.'


def test_no_config_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    assert config.config_path is None
    assert config.kv_namespaces == ()
    assert config.state_dir(cwd=tmp_path) == (tmp_path / ".edgekv").resolve()


def test_no_config_when_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Could not find a configuration file"):
        load_config(tmp_path, cwd=tmp_path, environ={}, require_file=True)


def test_default_search_starts_at_cwd(tmp_path: Path) -> None:
    (tmp_path / "wrangler.jsonc").write_text('{"name": "here"}')
    assert load_config(cwd=tmp_path, environ={}).config_path == tmp_path / "wrangler.jsonc"
