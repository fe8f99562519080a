"""``edgekv init [DIR]``: a new Python Worker project that runs, tests and deploys."""

from __future__ import annotations

from pathlib import Path

import click

from edgekv.cli.output import fail, info
from edgekv.config.starter import worker_name, write_starter

__all__ = ["init"]


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--name", default=None, help="The Worker's name (default: from the folder).")
def init(directory: str, name: str | None) -> None:
    """Create a Python Worker project in DIR (default: the current folder)."""
    folder = Path(directory).resolve()
    chosen = name or worker_name(folder)
    try:
        written = write_starter(folder, chosen)
    except FileExistsError as exc:
        fail(f"{exc} already exists: edgekv init writes only into a folder without a project.")
    except OSError as exc:
        fail(f"Could not write the project into {folder}: {exc.strerror or exc}")
    info(f'Created the Python Worker "{chosen}" in {folder}:')
    for path in written:
        info(f"    {path.relative_to(folder)}")
    step = "" if directory == "." else f"cd {directory}\n    "
    info(f"\nNext:\n    {step}edgekv dev        # serve it on http://127.0.0.1:8787\n"
         "    pytest            # run its tests")
