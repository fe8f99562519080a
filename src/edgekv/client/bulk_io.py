"""The work behind ``kv bulk`` and ``kv namespace export`` (and the data explorer's bulk
upload and download): stream a bulk file into the store (validated whole, stored
atomically) and a namespace out as a bulk file."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Iterator
from typing import IO, Any

from edgekv.client import LocalKV
from edgekv.client.bulkfile import (
    KEY_VALUE_INTERFACE,
    BulkFileError,
    describe_js,
    iter_json_array,
    parse_key_item,
    parse_put_item,
)
from edgekv.errors import KVError, KVTypeError
from edgekv.kv import KVNamespace
from edgekv.storage import Record

__all__ = ["export_item", "export_items", "read_keys", "validated_records"]

_MAX_LISTED_ERRORS = 12


def validated_records(
    stream: IO[str],
    filename: str,
    kv: KVNamespace,
    *,
    on_item: Callable[[], None] = lambda: None,
    warnings: list[str] | None = None,
) -> Iterator[Record]:
    """Yield the records of a ``bulk put`` file, checked as ``put`` would check them.

    Every item is checked; if any is wrong, ``BulkFileError`` is raised after the last item
    (so a consumer that writes atomically stores nothing) listing the bad items by index.
    """
    shape_errors: list[str] = []
    value_errors: list[str] = []
    index = -1
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
    """One record as a bulk-file item (``base64`` when the value is not UTF-8)."""
    raw = record.value or b""
    try:
        item: dict[str, Any] = {"key": record.key, "value": raw.decode("utf-8")}
    except UnicodeDecodeError:
        item = {"key": record.key, "value": base64.b64encode(raw).decode("ascii"), "base64": True}
    if record.expiration is not None:
        item["expiration"] = record.expiration
    if record.metadata is not None:
        from edgekv.kv.jsjson import parse

        item["metadata"] = parse(record.metadata)
    return item


async def export_items(local: LocalKV, namespace_id: str, prefix: str = "") -> AsyncIterator[dict[str, Any]]:
    """The namespace's records as bulk-file items, in key order (flat memory)."""
    async for record in local.iter_records(namespace_id, prefix=prefix, values=True):
        yield export_item(record)
