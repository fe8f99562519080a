"""``edgekv kv import-wrangler [PATH]``: bring wrangler's local KV data into edgekv."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from edgekv.cli.output import fail, info
from edgekv.cli.project import Project, project_options
from edgekv.client import LocalKV
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
    titles = {kv.local_id(preview=True): kv.binding for kv in config.kv_namespaces}
    titles.update({kv.local_id(preview=False): kv.binding for kv in config.kv_namespaces})
    try:
        namespaces = find_kv_namespaces(source)
    except WranglerStateError as exc:
        fail(f"Nothing imported: {exc}.")

    async def run() -> list[tuple[str, int]]:
        done = []
        async with LocalKV(project.kv_url) as local:
            now = int(local.store.clock.now())
            for namespace in namespaces:
                records = list(namespace.records(now))
                await local.store.ensure_namespace(namespace.namespace_id,
                                                   titles.get(namespace.namespace_id))
                await local.put_records(namespace.namespace_id, records)
                done.append((namespace.namespace_id, len(records)))
        return done

    try:
        imported = asyncio.run(run())
    except WranglerStateError as exc:
        fail(f"The import stopped: {exc}. Namespaces before it were imported.")
    except StorageError as exc:
        fail(f"The import stopped: {exc}")
    if not imported:
        info(f"No KV data found in {source}.")
    for namespace_id, count in imported:
        binding = titles.get(namespace_id)
        shown = f'binding: "{binding}" (id: "{namespace_id}")' if binding else f'id: "{namespace_id}"'
        info(f"Imported {count} key{'s' if count != 1 else ''} into namespace {shown}.")
