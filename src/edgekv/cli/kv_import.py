"""``edgekv kv import-wrangler [PATH]``: bring wrangler's local KV data into edgekv."""

from __future__ import annotations

from pathlib import Path

import click

from edgekv.cli.output import fail, info
from edgekv.cli.project import Project, project_options
from edgekv.cli.run import run
from edgekv.client import LocalKV
from edgekv.client.wrangler_import import binding_titles, import_namespaces
from edgekv.client.wrangler_state import WranglerStateError, find_kv_namespaces
from edgekv.errors import StorageError

__all__ = ["import_wrangler"]


@click.command("import-wrangler")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@project_options
def import_wrangler(path: str | None, project: Project) -> None:
    """Copy every KV namespace of wrangler's local state (PATH, default: .wrangler/state
    next to the config) into edgekv's store, replacing keys of the same name."""
    config = project.config
    source = Path(path) if path else (config.config_dir or Path.cwd()) / ".wrangler" / "state"
    titles = binding_titles(config)
    try:
        namespaces = find_kv_namespaces(source)
    except WranglerStateError as exc:
        fail(f"Nothing imported: {exc}.")

    async def work() -> list[tuple[str, int]]:
        async with LocalKV(project.kv_url) as local:
            return await import_namespaces(local, namespaces, titles)

    imported = run(work(), errors={
        WranglerStateError: lambda exc: f"The import stopped: {exc}. Namespaces before it were imported.",
        StorageError: lambda exc: f"The import stopped: {exc}",
    })
    if not imported:
        info(f"No KV data found in {source}.")
    for namespace_id, count in imported:
        binding = titles.get(namespace_id)
        shown = f'binding: "{binding}" (id: "{namespace_id}")' if binding else f'id: "{namespace_id}"'
        info(f"Imported {count} key{'s' if count != 1 else ''} into namespace {shown}.")
