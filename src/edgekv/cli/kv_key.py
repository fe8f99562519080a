"""``edgekv kv key put | get | list | delete``: wrangler's flags, outputs and exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import click

from edgekv.cli.kv_run import input_path, print_location, run_kv
from edgekv.cli.output import banner, fail, info
from edgekv.cli.project import Project, project_options
from edgekv.cli.targets import describe_namespace, resolve_namespace_id, target_options
from edgekv.client import KVClient
from edgekv.client.jsonout import write_pretty_array
from edgekv.kv import jsjson
from edgekv.limits import DEFAULT_LIMITS
from edgekv.storage import Record

__all__ = ["key"]


@click.group()
def key() -> None:
    """Individually manage Workers KV key-value pairs."""


def metadata_option(text: str | None) -> Any:
    """The ``--metadata`` flag's JSON object (wrangler's checks and texts)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        fail(f"--metadata must be valid JSON, got: {text}")
    if not isinstance(value, dict):
        fail(f"--metadata must be a JSON object (not an array or a primitive), got: {text}")
    return value


@key.command("put")
@click.argument("key_name", metavar="KEY")
@click.argument("value", required=False)
@click.option("--path", type=click.Path(dir_okay=False), default=None,
              help="Read the value from this file.")
@click.option("--ttl", type=int, default=None, help="Time for which the entry should be visible (seconds).")
@click.option("--expiration", type=int, default=None,
              help="Time since the UNIX epoch after which the entry expires.")
@click.option("--metadata", default=None, help="Arbitrary JSON object to associate with the key.")
@target_options
@project_options
def put(key_name: str, value: str | None, path: str | None, ttl: int | None,
        expiration: int | None, metadata: str | None, target: Any, remote: bool,
        project: Project) -> None:
    """Write a single KEY with VALUE (or the contents of --path)."""
    if (value is None) == (path is None):
        fail("Exactly one of the arguments value and path is required")
    meta = metadata_option(metadata)
    namespace_id = resolve_namespace_id(project, target, remote)
    data: bytes | str
    if path is not None:
        try:
            with open(input_path(project, path), "rb") as handle:  # stop one byte past the limit
                data = handle.read(DEFAULT_LIMITS.max_value_size_bytes + 1)
        except OSError as exc:
            fail(f"Could not read {path}: {exc.strerror}")
        what = f"the contents of {path} to the key"
    else:
        data = str(value)
        what = f'the value "{value}" to key'
    with_meta = f' with metadata "{jsjson.stringify(meta)}"' if meta is not None else ""
    banner()
    print_location(remote)
    info(f'Writing {what} "{key_name}" on namespace {describe_namespace(target, namespace_id)}{with_meta}.')

    async def work(client: KVClient) -> None:
        await client.put(namespace_id, key_name, data, expiration=expiration,
                         expiration_ttl=ttl, metadata=meta)

    run_kv(project, remote, work)


@key.command("get")
@click.argument("key_name", metavar="KEY")
@click.option("--text", is_flag=True, help="Decode the value as UTF-8 and end it with a newline.")
@target_options
@project_options
def get(key_name: str, text: bool, target: Any, remote: bool, project: Project) -> None:
    """Read a single KEY; the raw bytes go to stdout unless --text."""
    namespace_id = resolve_namespace_id(project, target, remote)

    async def work(client: KVClient) -> tuple[Record | None, str | None]:
        found = await client.get(namespace_id, key_name)
        return found, client.missing_value_error(namespace_id, key_name)

    found, missing = run_kv(project, remote, work)
    if found is None:
        if missing is not None:
            fail(missing)
        info("Value not found")
        return
    value = found.value or b""
    if text:
        info(value.decode("utf-8", "replace"))
    else:
        sys.stdout.buffer.write(value)
        sys.stdout.buffer.flush()


@key.command("list")
@click.option("--prefix", default="", help="Only list keys that begin with this prefix.")
@target_options
@project_options
def list_(prefix: str, target: Any, remote: bool, project: Project) -> None:
    """Print every key of the namespace as a JSON array, with expiration and metadata."""
    namespace_id = resolve_namespace_id(project, target, remote)

    async def items(client: KVClient) -> AsyncIterator[dict[str, Any]]:
        async for record in client.list_keys(namespace_id, prefix):
            item: dict[str, Any] = {"name": record.key}
            if record.expiration is not None:
                item["expiration"] = record.expiration
            if record.metadata is not None:
                item["metadata"] = jsjson.parse(record.metadata)
            yield item

    async def work(client: KVClient) -> None:
        await write_pretty_array(items(client), sys.stdout.write)

    run_kv(project, remote, work)


@key.command("delete")
@click.argument("key_name", metavar="KEY")
@target_options
@project_options
def delete(key_name: str, target: Any, remote: bool, project: Project) -> None:
    """Remove a single KEY."""
    namespace_id = resolve_namespace_id(project, target, remote)
    banner()
    print_location(remote)
    info(f'Deleting the key "{key_name}" on namespace {describe_namespace(target, namespace_id)}.')

    async def work(client: KVClient) -> None:
        await client.delete(namespace_id, key_name)

    run_kv(project, remote, work)
