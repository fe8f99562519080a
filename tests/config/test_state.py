from pathlib import Path

from edgekv.config import load_config, state_paths


def test_default_root_is_next_to_the_config(tmp_path: Path) -> None:
    paths = state_paths(tmp_path / "project", cwd=tmp_path / "elsewhere")
    root = (tmp_path / "project" / ".edgekv").resolve()
    assert paths.root == root
    assert paths.kv_db == root / "kv.sqlite3"
    assert paths.do_db == root / "do.sqlite3"
    assert paths.kv_url == f"sqlite:///{root}/kv.sqlite3"
    assert paths.kv_url.startswith("sqlite:////")


def test_no_config_uses_cwd(tmp_path: Path) -> None:
    assert state_paths(None, cwd=tmp_path).root == (tmp_path / ".edgekv").resolve()


def test_persist_to_is_relative_to_cwd_not_config(tmp_path: Path) -> None:
    paths = state_paths(tmp_path / "project", "data/state", cwd=tmp_path / "run")
    assert paths.root == (tmp_path / "run" / "data" / "state").resolve()
    assert paths.kv_db == paths.root / "kv.sqlite3"


def test_absolute_persist_to(tmp_path: Path) -> None:
    assert state_paths(None, tmp_path / "abs", cwd="/").root == (tmp_path / "abs").resolve()


def test_config_methods(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "wrangler.toml").write_text('name = "w"')
    config = load_config(tmp_path / "sub", cwd=tmp_path / "sub", environ={})
    assert config.state_dir() == (tmp_path / ".edgekv").resolve()
    assert config.state_dir("p", cwd=tmp_path / "sub") == (tmp_path / "sub" / "p").resolve()
    assert config.kv_store_url() == f"sqlite:///{(tmp_path / '.edgekv').resolve()}/kv.sqlite3"
    assert not (tmp_path / ".edgekv").exists()  # resolving paths creates nothing
