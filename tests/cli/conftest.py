"""Fixtures for CLI tests: a temporary wrangler project and a runner bound to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edgekv.cli.app import cli

WRANGLER_TOML = """\
name = "cli-test"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
kv_namespaces = [
  { binding = "TODO", id = "06779da6940b431db6e566b4846d64db" },
  { binding = "BOTH", id = "aaaa0000aaaa0000aaaa0000aaaa0000", preview_id = "bbbb1111bbbb1111bbbb1111bbbb1111" },
]

[env.staging]
kv_namespaces = [{ binding = "TODO", id = "5ta9e5ta9e5ta9e5ta9e5ta9e5ta9e00" }]
"""


def human_header() -> str:
    """What wrangler 4.86 prints before a human-readable kv command's own lines (observed):
    a blank line, the banner, a rule as long, ``Resource location: local `` and a blank line."""
    from edgekv import __version__

    title = f" ⛅️ edgekv {__version__}"
    return f"\n{title}\n{'─' * len(title)}\nResource location: local \n\n"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "wrangler.toml").write_text(WRANGLER_TOML, encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text("", encoding="utf-8")
    return tmp_path


@pytest.fixture
def run(project_dir: Path) -> Callable[..., Result]:
    """Invoke ``edgekv`` with ``--cwd`` pointing at the temporary project."""
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(cli, [*args, "--cwd", str(project_dir)], input=input,
                             catch_exceptions=False)

    return invoke
