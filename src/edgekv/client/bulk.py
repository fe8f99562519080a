"""Bulk files in and out of a ``KVClient``: ``kv bulk put|get|delete`` and
``kv namespace export|import``.

A ``bulk put``/``import`` file is checked whole (shape, then the KV rules ``put`` applies)
before anything is kept: local writes are one transaction, remote ones are sent only once
the last item has been checked. ``export`` writes the bulk-file form of every record, so
``import`` (or ``bulk put``) restores a namespace losslessly, on either side.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from edgekv.client.bulkfile import (
    KEY_VALUE_INTERFACE,
    BulkFileError,
    describe_js,
    iter_json_array,
    parse_key_item,
    parse_put_item,
)
from edgekv.client.kvclient import KVClient, Progress
from edgekv.errors import KVError, KVTypeError
from edgekv.kv import KVNamespace, jsjson
from edgekv.storage import Record

__all__ = ["BulkLoad", "export_item", "export_items", "load_bulk_file", "read_keys",
           "validated_records"]

_MAX_LISTED_ERRORS = 12


def validated_records(
    stream: IO[str],
    filename: str,
    kv: KVNamespace,
    *,
    on_item: Callable[[], None] = lambda: None,
    warnings: list[str] | None = None,
    skip_expired: list[str] | None = None,
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
        try:
            record = kv.prepare_put(
                parsed.key, parsed.value, expiration=parsed.expiration,
                expiration_ttl=parsed.expiration_ttl, metadata=parsed.metadata,
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
        raise BulkFileError(
            f'Unexpected JSON input from "{filename}".\n{KEY_VALUE_INTERFACE}\n'
            + "\n".join(listed) + more
        )
    if value_errors:
        listed = value_errors[:_MAX_LISTED_ERRORS]
        more = f"\n... and {len(value_errors) - len(listed)} more" if len(value_errors) > len(listed) else ""
        raise BulkFileError(
            f'Nothing was written: {len(value_errors)} item(s) in "{filename}" cannot be stored.\n'
            + "\n".join(listed) + more
        )


@dataclass
class BulkLoad:
    """What ``load_bulk_file`` did: items stored, warnings, keys skipped as expired."""

    stored: int = 0
    warnings: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


async def load_bulk_file(
    client: KVClient,
    namespace_id: str,
    stream: IO[str],
    filename: str,
    *,
    on_item: Callable[[], None] = lambda: None,
    progress: Progress | None = None,
    skip_expired: bool = False,
) -> BulkLoad:
    """Check the bulk file in ``stream`` whole, then store it in ``namespace_id``.

    Raises ``BulkFileError`` (nothing stored) if any item is wrong."""
    load = BulkLoad()
    records = validated_records(stream, filename, client.validator(namespace_id),
                                on_item=on_item, warnings=load.warnings,
                                skip_expired=load.expired if skip_expired else None)
    load.stored = await client.put_bulk(namespace_id, records, progress=progress)
    return load


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


def export_item(record: Record) -> dict[str, Any]:
    """A record as a ``bulk put`` item: the value as text when it is UTF-8, else base64."""
    raw = record.value or b""
    try:
        item: dict[str, Any] = {"key": record.key, "value": raw.decode("utf-8")}
    except UnicodeDecodeError:
        item = {"key": record.key, "value": base64.b64encode(raw).decode("ascii"), "base64": True}
    if record.expiration is not None:
        item["expiration"] = record.expiration
    if record.metadata is not None:
        item["metadata"] = jsjson.parse(record.metadata)
    return item


async def export_items(client: KVClient, namespace_id: str, prefix: str = "") -> AsyncIterator[dict[str, Any]]:
    """The namespace's records as bulk-file items, in key order (flat memory)."""
    async for record in client.export(namespace_id, prefix):
        yield export_item(record)
