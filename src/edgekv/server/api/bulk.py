"""Bulk endpoints: write up to 10,000 pairs, delete up to 10,000 keys, read up to 100.

A bulk write is validated whole with the binding's own rules and then stored atomically:
one bad item stores nothing and the error names it by index. A body of up to 100 MB is
parsed once (``json.loads`` on the bytes, which are dropped right after), and items are
released one by one as they become records, so about two copies exist at the peak.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

from edgekv.errors import KVError, KVSyntaxError, KVTypeError
from edgekv.server.api.access import Access
from edgekv.server.api.asgi import ApiRequest, BodyTooLarge, read_body
from edgekv.server.api.context import ApiContext, kv_error
from edgekv.server.api.envelope import ApiError, success
from edgekv.storage import Record

__all__ = ["MAX_BULK_ITEMS", "bulk_delete", "bulk_get", "bulk_put"]

MAX_BULK_ITEMS = 10_000


async def _json_body(ctx: ApiContext, request: ApiRequest) -> Any:
    try:
        body = await read_body(request, ctx.max_body_bytes)
    except BodyTooLarge:
        raise ApiError(413, 10005, f"Request body exceeds the limit of {ctx.max_body_bytes} bytes") from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, 10001, "the request body must be valid JSON") from None


def _number(item: dict[str, Any], name: str, index: int) -> Any:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(400, 10001, f"item {index}: {name} must be a number")
    return value


def _records(ctx: ApiContext, namespace_id: str, items: list[Any]) -> Iterator[Record]:
    """Validated records; every item is released once converted."""
    binding = ctx.binding(namespace_id)
    for index in range(len(items)):
        item, items[index] = items[index], None
        if not isinstance(item, dict):
            raise ApiError(400, 10001, f"item {index}: expected an object with key and value")
        key, value = item.get("key"), item.get("value")
        if not isinstance(key, str):
            raise ApiError(400, 10001, f"item {index}: key must be a string")
        if not isinstance(value, str):
            raise ApiError(400, 10001, f'item {index} (key "{key}"): value must be a string')
        data: str | bytes = value
        if item.get("base64") is True:
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(400, 10001, f'item {index} (key "{key}"): value is not valid base64') from None
        try:
            yield binding.prepare_put(
                key, data, expiration=_number(item, "expiration", index),
                expiration_ttl=_number(item, "expiration_ttl", index),
                metadata=item.get("metadata"),
            )
        except (KVError, KVTypeError, KVSyntaxError) as exc:
            error = kv_error(exc)
            raise ApiError(error.status, error.code, f'item {index} (key "{key}"): {error.message}') from None


async def bulk_put(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                   namespace_id: str) -> dict[str, Any]:
    ctx.check_write(access)
    info = await ctx.namespace(access, account_id, namespace_id, "bulk put")
    items = await _json_body(ctx, request)
    if not isinstance(items, list):
        raise ApiError(400, 10001, "the request body must be a JSON array of key-value pairs")
    if len(items) > MAX_BULK_ITEMS:
        raise ApiError(400, 10001, f"a bulk write takes at most {MAX_BULK_ITEMS} pairs, got {len(items)}")
    count = len(items)
    records = list(_records(ctx, info.id, items))  # validate everything before writing
    await ctx.store.write_batch(info.id, records)
    return success({"successful_key_count": count, "unsuccessful_keys": []})


async def bulk_delete(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                      namespace_id: str) -> dict[str, Any]:
    ctx.check_write(access)
    info = await ctx.namespace(access, account_id, namespace_id, "bulk delete")
    keys = await _json_body(ctx, request)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ApiError(400, 10001, "the request body must be a JSON array of key names")
    if len(keys) > MAX_BULK_ITEMS:
        raise ApiError(400, 10001, f"a bulk delete takes at most {MAX_BULK_ITEMS} keys, got {len(keys)}")
    await ctx.store.write_batch(info.id, (), keys)
    return success({"successful_key_count": len(keys), "unsuccessful_keys": []})


async def bulk_get(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                   namespace_id: str) -> dict[str, Any]:
    info = await ctx.namespace(access, account_id, namespace_id, "bulk get")
    body = await _json_body(ctx, request)
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise ApiError(400, 10001, 'the request body must be {"keys": [...]}')
    keys = body["keys"]
    if not all(isinstance(k, str) for k in keys):
        raise ApiError(400, 10001, "keys must be strings")
    read_type = body.get("type") or "text"
    with_metadata = body.get("withMetadata", body.get("with_metadata")) is True
    binding = ctx.binding(info.id)
    try:
        if with_metadata:
            found = await binding.getWithMetadata(keys, read_type)
        else:
            found = await binding.get(keys, read_type)
    except (KVError, KVTypeError, KVSyntaxError) as exc:
        raise kv_error(exc) from None
    values: dict[str, Any] = {}
    expirations: dict[str, Any] = {}
    if with_metadata:
        records = await ctx.store.get_many(info.id, [k for k, v in found.items() if v is not None])
        expirations = {k: r.expiration for k, r in records.items() if r.expiration is not None}
    for key in keys:
        entry = found.get(key)
        if with_metadata and entry is not None:
            shown = {"value": entry["value"], "metadata": entry["metadata"]}
            if key in expirations:
                shown["expiration"] = expirations[key]
            values[key] = shown
        else:
            values[key] = entry
    return success({"values": values})
