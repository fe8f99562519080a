"""`edgekv init`: a project that runs, tests and deploys; `edgekv dev` without a config; the
state folder's own .gitignore."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from click.testing import CliRunner

from edgekv.cli.app import cli
from edgekv.config import load_config
from tests.cli.test_dev_command import EDGEKV


def test_init_writes_pywrangler_layout(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "My Shop")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "My Shop"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        ".gitignore", "README.md", "pyproject.toml", "src/entry.py", "tests/test_entry.py",
        "wrangler.toml"]
    config = load_config(folder, cwd=folder, environ={})
    assert config.name == "my-shop" and config.main == "src/entry.py"
    assert "python_workers" in config.compatibility_flags
    assert [kv.binding for kv in config.kv_namespaces] == ["KV"]
    assert config.kv_namespaces[0].local_id() == "KV"  # no id: provisioned on deploy
    pyproject = tomllib.loads((folder / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "my-shop"
    assert "workers-py" in pyproject["dependency-groups"]["dev"]
    assert ".edgekv/" in (folder / ".gitignore").read_text()


def test_init_refuses_an_existing_project(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "mine"\n')
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "wrangler.toml already exists" in result.output
    assert (tmp_path / "wrangler.toml").read_text() == 'name = "mine"\n'
    assert not (tmp_path / "src").exists()


def test_init_to_a_passing_test_in_three_commands(tmp_path: Path) -> None:
    # 1. edgekv init hello   2. cd hello   3. pytest
    subprocess.run([*EDGEKV, "init", "hello"], cwd=tmp_path, check=True, capture_output=True, timeout=60)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path / "hello", capture_output=True, text=True, timeout=120,
                          check=False)  # asserted below with its output
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_dev_without_a_config_prints_a_starter(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dev", "--cwd", str(tmp_path)])
    assert result.exit_code == 1
    assert "No wrangler.toml, wrangler.json or wrangler.jsonc in" in result.output
    assert "Create a project with `edgekv init`" in result.output
    assert 'main = "src/entry.py"' in result.output
    assert not (tmp_path / "wrangler.toml").exists()


def test_state_folder_ignores_itself(tmp_path: Path) -> None:
    CliRunner().invoke(cli, ["init", str(tmp_path)])
    result = CliRunner().invoke(cli, ["kv", "key", "put", "k", "v", "--binding", "KV", "--cwd", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".edgekv" / ".gitignore").read_text().splitlines()[-1] == "*"
