"""``edgekv kv bulk put | get | delete``: wrangler's JSON files, validated whole.

``bulk put`` checks every item (shape and KV rules) before anything is kept: the items are
written in one transaction that is rolled back if any item is bad. ``-`` reads stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

from edgekv.cli.output import banner, fail, info, is_interactive, resource_location, warn
from edgekv.cli.project import Project, project_options
from edgekv.cli.targets import describe_namespace, resolve_namespace_id, target_options
from edgekv.client import LocalKV
from edgekv.client.bulk_io import read_keys, validated_records
from edgekv.client.bulkfile import BulkFileError
from edgekv.client.jsonout import pretty
from edgekv.errors import KVError, KVTypeError
from edgekv.kv.validation import check_key

__all__ = ["bulk"]


@click.group()
def bulk() -> None:
    """Interact with multiple Workers KV key-value pairs at once."""


@contextlib.contextmanager
def _open(filename: str) -> Iterator[IO[str]]:
    if filename == "-":
        yield sys.stdin
        return
    try:
        handle = open(filename, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        fail(f'Could not read file "{filename}": {exc.strerror}')
    with handle:
        yield handle


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A rich spinner with a running count on a terminal; nothing when piped."""
    if not enabled:
        yield lambda: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                  TextColumn("{task.completed:,} items"), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task("Writing", total=None)
        yield lambda: progress.advance(task)


@bulk.command("put")
@click.argument("filename")
@target_options
@project_options
def put(filename: str, target: Any, project: Project) -> None:
    """Upload the key-value pairs of FILENAME (a JSON array; ``-`` for stdin)."""
    namespace_id = resolve_namespace_id(project, target)
    shown = "stdin" if filename == "-" else filename
    banner()
    resource_location()
    warnings: list[str] = []

    async def run(handle: IO[str], tick: Any) -> None:
        async with LocalKV(project.state.kv_url) as local:
            records = validated_records(handle, shown, local.namespace(namespace_id),
                                        on_item=tick, warnings=warnings)
            await local.put_records(namespace_id, records)

    with _open(filename) as handle, _progress(sys.stderr.isatty()) as tick:
        try:
            asyncio.run(run(handle, tick))
        except BulkFileError as exc:
            fail(str(exc))
    if warnings:
        warn(f'Unexpected key-value properties in "{shown}".\n' + "\n".join(warnings))
    info("Success!")


@bulk.command("get")
@click.argument("filename")
@target_options
@project_options
def get(filename: str, target: Any, project: Project) -> None:
    """Print the values of the keys listed in FILENAME as JSON."""
    namespace_id = resolve_namespace_id(project, target)

    async def run(keys: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        async with LocalKV(project.state.kv_url) as local:
            for start in range(0, len(keys), 100):
                chunk = keys[start : start + 100]
                for k in chunk:
                    check_key(k, "GET", local.limits)
                found = await local.get_records(namespace_id, chunk)
                for k in chunk:
                    record = found.get(k)
                    value = None if record is None else (record.value or b"").decode("utf-8", "replace")
                    result[k] = {"value": value}
        return result

    with _open(filename) as handle:
        try:
            keys = read_keys(handle, "stdin" if filename == "-" else filename)
            result = asyncio.run(run(keys))
        except (BulkFileError, KVError, KVTypeError) as exc:
            fail(str(exc))
    info(pretty(result))


@bulk.command("delete")
@click.argument("filename")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@target_options
@project_options
def delete(filename: str, force: bool, target: Any, project: Project) -> None:
    """Delete the keys listed in FILENAME (strings or {"name"} objects)."""
    namespace_id = resolve_namespace_id(project, target)
    shown = "stdin" if filename == "-" else filename
    with _open(filename) as handle:
        try:
            keys = read_keys(handle, shown)
        except BulkFileError as exc:
            fail(str(exc))
    banner()
    resource_location()
    question = (f'Are you sure you want to delete all the keys read from "{shown}" from '
                f"kv-namespace {describe_namespace(target, namespace_id)}?")
    if not force:
        if is_interactive():
            if not click.confirm(question, default=False):
                info("Not deleting keys read from " + f'"{shown}".')
                return
        else:
            info(f"? {question}")
            info("🤖 Using fallback value in non-interactive context: yes")

    async def run() -> None:
        async with LocalKV(project.state.kv_url) as local:
            for k in keys:
                check_key(k, "DELETE", local.limits)
            await local.delete_keys(namespace_id, keys)

    try:
        asyncio.run(run())
    except (KVError, KVTypeError) as exc:
        fail(str(exc))
    info("Success!")
