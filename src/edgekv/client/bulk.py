"""Bulk files in and out of a ``KVClient``: ``kv bulk put|get|delete`` and
``kv namespace export|import``.

A ``bulk put``/``import`` file is checked whole (shape, then the KV rules ``put`` applies)
before anything is kept: local writes are one transaction, remote ones are sent only once
the last item has been checked. ``export`` writes the bulk-file form of every record, so
``import`` (or ``bulk put``) restores a namespace losslessly, on either side.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from edgekv.client.bulkfile import (
    KEY_VALUE_INTERFACE,
    BulkFileError,
    describe_js,
    export_item,
    iter_json_array,
    parse_key_item,
    parse_put_item,
)
from edgekv.client.jsonout import write_pretty_array
from edgekv.client.kvclient import KVClient, Progress
from edgekv.errors import KVError, KVTypeError
from edgekv.kv import KVNamespace
from edgekv.limits import DEFAULT_LIMITS, Limits
from edgekv.storage import Record, open_store

__all__ = ["BulkDefaults", "BulkLoad", "bulk_rules", "delete_keys_file", "export_item", "export_items",
           "get_keys_file", "load_bulk_file", "read_bulk_file", "read_keys", "store_bulk",
           "validated_records", "write_export"]

_MAX_LISTED_ERRORS = 12


def validated_records(
    stream: IO[str],
    filename: str,
    kv: KVNamespace,
    *,
    on_item: Callable[[], None] = lambda: None,
    warnings: list[str] | None = None,
    skip_expired: list[str] | None = None,
    defaults: BulkDefaults | None = None,
) -> Iterator[Record]:
    """Yield the records of a ``bulk put`` file, checked as ``put`` would check them.

    Every item is checked; if any is wrong, ``BulkFileError`` is raised after the last item
    (so a consumer that writes atomically stores nothing) listing the bad items by index.
    With ``skip_expired`` (a list), items whose absolute ``expiration`` is too close for the
    service to accept (already past, or under the minimum TTL away) are left out and their
    keys appended there instead of failing the load: a restore of an export taken a while
    ago must not fail on keys that have expired since.
    """
    shape_errors: list[str] = []
    value_errors: list[str] = []
    for index, item in enumerate(iter_json_array(stream, filename)):
        on_item()
        try:
            parsed = parse_put_item(item)
        except ValueError as exc:
            value_errors.append(f"The item at index {index} is invalid: {exc}.")
            continue
        if parsed is None:
            shape_errors.append(f"The item at index {index} is {describe_js(item)}")
            continue
        if parsed.unexpected and warnings is not None:
            warnings.append(
                f"The item at index {index} contains unexpected properties: "
                f"{describe_js(list(parsed.unexpected))}."
            )
        expiration, expiration_ttl, metadata = parsed.expiration, parsed.expiration_ttl, parsed.metadata
        if defaults is not None:
            if expiration is None and expiration_ttl is None:
                expiration, expiration_ttl = defaults.expiration, defaults.expiration_ttl
            if metadata is None:
                metadata = defaults.metadata
        try:
            record = kv.prepare_put(
                parsed.key, parsed.value, expiration=expiration,
                expiration_ttl=expiration_ttl, metadata=metadata,
            )
        except (KVError, KVTypeError) as exc:
            if (skip_expired is not None and isinstance(exc, KVError)
                    and parsed.expiration is not None and parsed.expiration_ttl is None
                    and str(exc.status_text).startswith("Invalid expiration of")):
                skip_expired.append(parsed.key)
                continue
            value_errors.append(f'The item at index {index} (key "{parsed.key}") cannot be stored: {exc}')
            continue
        if not shape_errors and not value_errors:
            yield record
    if shape_errors:
        listed = shape_errors[:_MAX_LISTED_ERRORS]
        more = "\n..." if len(shape_errors) > _MAX_LISTED_ERRORS else ""
        rules = ""
        if value_errors:  # every bad item in one run: the rule errors too, with their count
            rules = (f"\nAlso, {len(value_errors)} item(s) cannot be stored:\n"
                     + "\n".join(value_errors[:_MAX_LISTED_ERRORS])
                     + (f"\n... and {len(value_errors) - _MAX_LISTED_ERRORS} more"
                        if len(value_errors) > _MAX_LISTED_ERRORS else ""))
        raise BulkFileError(
            f'Unexpected JSON input from "{filename}".\n{KEY_VALUE_INTERFACE}\n'
            + "\n".join(listed) + more + rules
        )
    if value_errors:
        listed = value_errors[:_MAX_LISTED_ERRORS]
        more = f"\n... and {len(value_errors) - len(listed)} more" if len(value_errors) > len(listed) else ""
        raise BulkFileError(
            f'Nothing was written: {len(value_errors)} item(s) in "{filename}" cannot be stored.\n'
            + "\n".join(listed) + more
        )


@dataclass(frozen=True)
class BulkDefaults:
    """What ``kv bulk put --ttl/--expiration/--metadata`` give items that set none of their
    own (an item's own expiration or TTL, and its own metadata, win)."""

    expiration: int | None = None
    expiration_ttl: int | None = None
    metadata: Any = None


@dataclass
class BulkLoad:
    """A bulk file read and checked (``records``), then what storing it did: the namespace
    (and whether it was created for the load), items stored, warnings, keys skipped as
    expired."""

    records: list[Record] = field(default_factory=list)
    namespace_id: str = ""
    created: bool = False
    stored: int = 0
    warnings: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def bulk_rules(namespace_id: str, limits: Limits = DEFAULT_LIMITS) -> KVNamespace:
    """The binding's rules for checking writes (``prepare_put``), with no store behind them:
    whether a write is valid never depends on what is stored."""
    return KVNamespace(open_store("memory://"), namespace_id, limits=limits)


def read_bulk_file(
    stream: IO[str],
    filename: str,
    rules: KVNamespace,
    *,
    on_item: Callable[[], None] = lambda: None,
    skip_expired: bool = False,
    defaults: BulkDefaults | None = None,
) -> BulkLoad:
    """Read and check a whole bulk file (synchronously: no event loop, no store).

    Raises ``BulkFileError`` if any item is wrong."""
    load = BulkLoad()
    load.records = list(validated_records(stream, filename, rules, on_item=on_item,
                                          warnings=load.warnings,
                                          skip_expired=load.expired if skip_expired else None,
                                          defaults=defaults))
    return load


async def store_bulk(
    client: KVClient,
    namespace_id: str | None,
    load: BulkLoad,
    *,
    title: str | None = None,
    on_namespace: Callable[[str, bool], None] | None = None,
    progress: Progress | None = None,
    write_guard: contextlib.AbstractContextManager[Any] | None = None,
) -> BulkLoad:
    """Store what ``read_bulk_file`` checked in ``namespace_id``, or (with ``title``
    instead) in the namespace with that title, created when there is none (and deleted
    again if the write fails). One transaction locally (all or none). ``on_namespace(id,
    created)`` hears which namespace it is before the write; ``write_guard`` is entered
    around the write alone (the CLI defers Ctrl-C there)."""
    if namespace_id is None:
        if title is None:
            raise ValueError("store_bulk needs a namespace id or a title")
        found = await client.namespace_by_title(title)
        if found is None:
            found = await client.create_namespace(title)
            load.created = True
        namespace_id = found.id
    load.namespace_id = namespace_id
    if on_namespace is not None:
        on_namespace(namespace_id, load.created)
    try:
        with write_guard if write_guard is not None else contextlib.nullcontext():
            load.stored = await client.put_bulk(namespace_id, load.records, progress=progress)
    except BaseException:
        if load.created:  # a namespace made for a load that failed goes again
            await client.delete_namespace(namespace_id)
        raise
    load.records = []
    return load


async def load_bulk_file(
    client: KVClient,
    namespace_id: str | None,
    stream: IO[str],
    filename: str,
    *,
    title: str | None = None,
    on_namespace: Callable[[str, bool], None] | None = None,
    on_item: Callable[[], None] = lambda: None,
    progress: Progress | None = None,
    skip_expired: bool = False,
    defaults: BulkDefaults | None = None,
) -> BulkLoad:
    """``read_bulk_file`` then ``store_bulk`` (``kv bulk put``; ``kv namespace import`` with
    ``title`` and ``skip_expired``): everything is read and checked before the store is
    touched (a bad file creates no namespace). Raises ``BulkFileError`` (nothing stored) if
    any item is wrong."""
    load = read_bulk_file(stream, filename, client.validator(namespace_id or ""),
                          on_item=on_item, skip_expired=skip_expired, defaults=defaults)
    return await store_bulk(client, namespace_id, load, title=title, on_namespace=on_namespace,
                            progress=progress)


def read_keys(stream: IO[str], filename: str) -> list[str]:
    """The keys of a ``bulk get``/``bulk delete`` file. Raises ``BulkFileError``."""
    keys: list[str] = []
    errors: list[str] = []
    for index, item in enumerate(iter_json_array(stream, filename)):
        key = parse_key_item(item)
        if key is None:
            errors.append(f"The item at index {index} is type: \"{type(item).__name__}\" - {describe_js(item)}")
        else:
            keys.append(key)
    if errors:
        raise BulkFileError(
            f'Unexpected JSON input from "{filename}".\n'
            "Expected an array of strings or objects with a \"name\" key.\n"
            + "\n".join(errors[:_MAX_LISTED_ERRORS])
        )
    return keys


async def export_items(client: KVClient, namespace_id: str,
                       prefix: str = "") -> AsyncIterator[dict[str, Any]]:
    """The namespace's records as bulk-file items, in key order (flat memory)."""
    async for record in client.export(namespace_id, prefix):
        yield export_item(record)


async def write_export(client: KVClient, namespace_id: str, write: Callable[[str], Any],
                       prefix: str = "") -> None:
    """``kv namespace export``: the namespace as a bulk file (``JSON.stringify(items, null,
    2)`` and a newline) through ``write``, in batches, with memory flat in its size.
    ``load_bulk_file`` reads it back losslessly."""
    await write_pretty_array(export_items(client, namespace_id, prefix), write)


async def get_keys_file(client: KVClient, namespace_id: str, stream: IO[str],
                        filename: str) -> dict[str, bytes | None]:
    """``kv bulk get``: the values of the keys a file lists (``None`` when missing). Raises
    ``BulkFileError`` for a bad file, before any request."""
    return await client.get_bulk(namespace_id, read_keys(stream, filename))


async def delete_keys_file(client: KVClient, namespace_id: str, stream: IO[str], filename: str,
                           *, progress: Progress | None = None) -> list[str]:
    """``kv bulk delete``: delete the keys a file lists; returns them. Raises
    ``BulkFileError`` for a bad file, before anything is deleted."""
    keys = read_keys(stream, filename)
    await client.delete_bulk(namespace_id, keys, progress=progress)
    return keys
