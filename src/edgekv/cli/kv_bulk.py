"""``edgekv kv bulk put | get | delete``: wrangler's JSON files, validated whole.

``bulk put`` checks every item (shape and KV rules) before anything is kept: locally the
items are written in one transaction, remotely they are sent only once all are checked
(``edgekv.client.bulk``). ``-`` reads stdin.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

from edgekv.cli.kv_run import print_location, run_kv
from edgekv.cli.output import banner, fail, info, is_interactive, warn
from edgekv.cli.project import Project, project_options
from edgekv.cli.targets import describe_namespace, resolve_namespace_id, target_options
from edgekv.client import KVClient
from edgekv.client.bulk import BulkLoad, load_bulk_file, read_keys
from edgekv.client.bulkfile import BulkFileError
from edgekv.client.jsonout import pretty

__all__ = ["ProgressReport", "bulk", "load_file", "open_input", "progress_ticker"]


@click.group()
def bulk() -> None:
    """Interact with multiple Workers KV key-value pairs at once."""


@contextlib.contextmanager
def open_input(filename: str) -> Iterator[IO[str]]:
    """The file named on the command line (``-``: stdin), or a wrangler-style failure."""
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
def progress_ticker(enabled: bool) -> Iterator[Any]:
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


class ProgressReport:
    """wrangler's ``Uploaded N% (x out of y)`` (or ``Deleted …``) lines: before the first
    request and after each one, when a remote bulk call takes more than 1,000 items."""

    def __init__(self, verb: str) -> None:
        self.verb = verb

    def __call__(self, done: int, total: int) -> None:
        if total > 1000:
            info(f"{self.verb} {done * 100 // total}% ({done:,} out of {total:,})")


def load_file(project: Project, remote: bool, namespace_id: str, filename: str,
              *, skip_expired: bool = False) -> BulkLoad:
    """Check and store a bulk file, reporting a bad file as wrangler does."""
    shown = "stdin" if filename == "-" else filename
    with open_input(filename) as handle, progress_ticker(sys.stderr.isatty() and not remote) as tick:

        async def work(client: KVClient) -> BulkLoad:
            return await load_bulk_file(client, namespace_id, handle, shown, on_item=tick,
                                        progress=ProgressReport("Uploaded") if remote else None,
                                        skip_expired=skip_expired)

        load = run_kv(project, remote, work)
    if load.warnings:
        warn(f'Unexpected key-value properties in "{shown}".\n' + "\n".join(load.warnings))
    return load


@bulk.command("put")
@click.argument("filename")
@target_options
@project_options
def put(filename: str, target: Any, remote: bool, project: Project) -> None:
    """Upload the key-value pairs of FILENAME (a JSON array; ``-`` for stdin)."""
    namespace_id = resolve_namespace_id(project, target, remote)
    banner()
    print_location(remote)
    load_file(project, remote, namespace_id, filename)
    info("Success!")


@bulk.command("get")
@click.argument("filename")
@target_options
@project_options
def get(filename: str, target: Any, remote: bool, project: Project) -> None:
    """Print the values of the keys listed in FILENAME as JSON (locally each value is
    ``{"value": ...}``; remotely the API's map of values, as wrangler prints them)."""
    namespace_id = resolve_namespace_id(project, target, remote)
    with open_input(filename) as handle:
        try:
            keys = read_keys(handle, "stdin" if filename == "-" else filename)
        except BulkFileError as exc:
            fail(str(exc))

    async def work(client: KVClient) -> dict[str, bytes | None]:
        return await client.get_bulk(namespace_id, keys)

    found = run_kv(project, remote, work)
    texts = {k: None if v is None else v.decode("utf-8", "replace") for k, v in found.items()}
    if remote:
        info(pretty(texts))
    else:
        info(pretty({k: {"value": v} for k, v in texts.items()}))


@bulk.command("delete")
@click.argument("filename")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@target_options
@project_options
def delete(filename: str, force: bool, target: Any, remote: bool, project: Project) -> None:
    """Delete the keys listed in FILENAME (strings or {"name"} objects)."""
    namespace_id = resolve_namespace_id(project, target, remote)
    shown = "stdin" if filename == "-" else filename
    with open_input(filename) as handle:
        try:
            keys = read_keys(handle, shown)
        except BulkFileError as exc:
            fail(str(exc))
    banner()
    print_location(remote)
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

    async def work(client: KVClient) -> None:
        await client.delete_bulk(namespace_id, keys,
                                 progress=ProgressReport("Deleted") if remote else None)

    run_kv(project, remote, work)
    info("Success!")
