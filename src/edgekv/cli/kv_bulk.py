"""``edgekv kv bulk put | get | delete``: wrangler's JSON files, validated whole.

``bulk put`` reads and checks every item (shape and KV rules) before anything is kept:
locally it then takes the write lock for one transaction (all or none), remotely the items
are sent only once all are checked (``edgekv.client.bulk``). ``-`` reads stdin. Ctrl-C while
reading stores nothing (exit 130); once the local write has begun it completes.
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

from edgekv.cli.kv_key import metadata_option
from edgekv.cli.kv_run import input_path, print_location, run_kv
from edgekv.cli.output import banner, fail, info, is_interactive, warn
from edgekv.cli.project import Project, project_options
from edgekv.cli.targets import describe_namespace, resolve_namespace_id, target_options
from edgekv.client import KVClient
from edgekv.client.bulk import (
    BulkDefaults,
    BulkLoad,
    bulk_rules,
    read_bulk_file,
    read_keys,
    store_bulk,
)
from edgekv.client.bulkfile import BulkFileError
from edgekv.client.jsonout import pretty

__all__ = ["ProgressReport", "bulk", "load_file", "open_input", "progress_ticker"]


@click.group()
def bulk() -> None:
    """Interact with multiple Workers KV key-value pairs at once."""


@contextlib.contextmanager
def open_input(project: Project, filename: str) -> Iterator[IO[str]]:
    """The file named on the command line (``-``: stdin; else relative to ``--cwd``, as
    wrangler reads it), or a wrangler-style failure."""
    if filename == "-":  # UTF-8 whatever the locale; bad bytes are reported, not replaced
        wrapper = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")
        try:
            yield wrapper
        finally:
            wrapper.detach()  # leave sys.stdin open
        return
    try:
        handle = open(input_path(project, filename), encoding="utf-8", newline="")  # noqa: SIM115
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


def load_file(project: Project, remote: bool, namespace_id: str | None, filename: str,
              *, title: str | None = None, on_namespace: Any = None, skip_expired: bool = False,
              write_guard: contextlib.AbstractContextManager[Any] | None = None,
              defaults: BulkDefaults | None = None) -> BulkLoad:
    """Read and check a bulk file whole, then store it in ``namespace_id`` (or the namespace
    titled ``title``, created when there is none); a bad file is reported as wrangler does.
    The input is read before any store or connection is opened, so a slow input holds
    nothing, and Ctrl-C while reading (a ``KeyboardInterrupt`` from here) stored nothing."""
    shown = "stdin" if filename == "-" else filename
    spinner = sys.stderr.isatty() and not remote  # remote runs print wrangler's progress lines
    with open_input(project, filename) as handle, progress_ticker(spinner) as tick:
        try:
            load = read_bulk_file(handle, shown, bulk_rules(namespace_id or ""), on_item=tick,
                                  skip_expired=skip_expired, defaults=defaults)
        except BulkFileError as exc:
            fail(str(exc))

    async def work(client: KVClient) -> BulkLoad:
        return await store_bulk(client, namespace_id, load, title=title,
                                on_namespace=on_namespace,
                                progress=ProgressReport("Uploaded") if remote else None,
                                write_guard=write_guard)

    run_kv(project, remote, work)
    if load.warnings:
        warn(f'Unexpected key-value properties in "{shown}".\n' + "\n".join(load.warnings))
    return load


@bulk.command("put")
@click.argument("filename")
@click.option("--ttl", type=int, default=None,
              help="Time (seconds) for which items without their own expiration stay visible.")
@click.option("--expiration", type=int, default=None,
              help="Epoch seconds at which items without their own expiration expire.")
@click.option("--metadata", default=None,
              help="A JSON object given to items that carry no metadata of their own.")
@target_options
@project_options
def put(filename: str, ttl: int | None, expiration: int | None, metadata: str | None,
        target: Any, remote: bool, project: Project) -> None:
    """Upload the key-value pairs of FILENAME (a JSON array; ``-`` for stdin).

    The whole input is read, parsed and validated first; only then is the store's write lock
    taken, for one atomic transaction (all items or none). So a slow stdin never holds the
    lock, and Ctrl-C says what happened: before the write nothing is stored (exit 130); once
    the local write has begun it completes and everything is stored.
    """
    defaults = None
    if ttl is not None or expiration is not None or metadata is not None:
        # wrangler accepts these flags and ignores them; edgekv gives them to the items that
        # set none of their own (docs/cli.md)
        defaults = BulkDefaults(expiration=expiration, expiration_ttl=ttl,
                                metadata=metadata_option(metadata))
    namespace_id = resolve_namespace_id(project, target, remote)
    banner()
    print_location(remote)
    guard = _SigintDeferred()
    try:
        load = load_file(project, remote, namespace_id, filename, write_guard=guard,
                         defaults=defaults)
    except KeyboardInterrupt:
        if guard.entered:
            raise
        click.echo("Interrupted while reading the input: nothing was written.", err=True)
        raise click.exceptions.Exit(130) from None
    if guard.caught:
        warn(f"Ctrl-C came while writing; the write completed: all {load.stored} item(s) were written.")
    info("Success!")


class _SigintDeferred:
    """A context manager for the write: SIGINT is noted, not acted on, until it ends.

    The transaction is short (the input is already checked and in memory), and stopping it
    half way would leave the user unsure of the outcome, so Ctrl-C waits for it to end.
    """

    def __init__(self) -> None:
        self.entered = False
        self.caught = False
        self._previous: Any = None

    def __enter__(self) -> None:
        self.entered = True
        with contextlib.suppress(ValueError):  # not the main thread: nothing to defer
            self._previous = signal.signal(signal.SIGINT, self._note)

    def _note(self, signum: int, frame: Any) -> None:
        self.caught = True

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


@bulk.command("get")
@click.argument("filename")
@target_options
@project_options
def get(filename: str, target: Any, remote: bool, project: Project) -> None:
    """Print the values of the keys listed in FILENAME as JSON (locally each value is
    ``{"value": ...}``; remotely the API's map of values, as wrangler prints them)."""
    namespace_id = resolve_namespace_id(project, target, remote)
    with open_input(project, filename) as handle:
        try:
            keys = read_keys(handle, "stdin" if filename == "-" else filename)
        except BulkFileError as exc:
            fail(str(exc))

    async def work(client: KVClient) -> dict[str, bytes | None]:
        return await client.get_bulk(namespace_id, keys)

    found = run_kv(project, remote, work)
    texts = {k: None if v is None else v.decode("utf-8", "replace") for k, v in found.items()}
    if remote:  # the API's map, then wrangler's "Success!" after a blank line
        info(pretty(texts) + "\n\nSuccess!")
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
    with open_input(project, filename) as handle:
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
