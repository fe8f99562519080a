"""The explorer's KV endpoints: what the v4 API lacks.

- ``count``: a namespace's key count (cached, ``counts.py``);
- ``keys?order=desc``: key pages in descending order (the v4 list is ascending only);
  the cursor is the v4 one (base64 of the last key shown);
- ``preview/{key}``: the first bytes of a value with its size, expiration and metadata, so
  a 25 MiB value is not loaded into the page unless asked;
- ``bulk`` (POST): a bulk file checked exactly as ``edgekv kv bulk put`` checks it (every
  bad item listed, nothing stored if any is bad);
- ``export``: the namespace as a bulk file (streamed, flat memory).
"""

from __future__ import annotations

import base64
import io
import re
from typing import Any

from edgekv.client.bulk import export_item, validated_records
from edgekv.client.bulkfile import BulkFileError
from edgekv.client.jsonout import pretty
from edgekv.kv import jsjson
from edgekv.kv.cursor import decode_cursor, encode_cursor
from edgekv.server.api import Access
from edgekv.server.api.asgi import ApiRequest, BodyTooLarge, Send, read_body
from edgekv.server.api.context import ApiContext, decode_segment
from edgekv.server.api.envelope import ApiError, success
from edgekv.server.explorer.counts import KeyCounts
from edgekv.storage import prefix_upper_bound

__all__ = ["bulk_upload", "count_keys", "export_namespace", "list_keys", "preview_value"]

_INTEGER = re.compile(r"^\d+$")
DEFAULT_PREVIEW_BYTES = 64 * 1024
_EXPORT_PAGE = 500


def _int(request: ApiRequest, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name) or ""
    if not text:
        return default
    if not _INTEGER.match(text) or not low <= int(text) <= high:
        raise ApiError(400, 10001, f"{name} must be an integer from {low} to {high}")
    return int(text)


async def count_keys(ctx: ApiContext, counts: KeyCounts, request: ApiRequest, access: Access,
                     account_id: str, raw_ns: str) -> dict[str, Any]:
    info = await ctx.namespace(access, account_id, raw_ns, "count keys")
    found = await counts.count(info.id, fresh=request.query.get("fresh") == "1")
    return success({"count": found.count, "age_seconds": round(found.age_seconds, 3)})


async def list_keys(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                    raw_ns: str) -> dict[str, Any]:
    """A page of keys (``name``, ``expiration``, ``metadata``) in either order."""
    info = await ctx.namespace(access, account_id, raw_ns, "list keys")
    limit = _int(request, "limit", 100, 1, 1000)
    prefix = request.query.get("prefix") or ""
    order = request.query.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise ApiError(400, 10001, 'order must be "asc" or "desc"')
    cursor = request.query.get("cursor") or ""
    after = decode_cursor(cursor) if cursor else None
    if order == "asc":
        records = await ctx.store.scan(info.id, prefix=prefix, start_after=after, limit=limit + 1)
    else:
        end = prefix_upper_bound(prefix) if prefix else None
        if after is not None and (end is None or after < end):
            end = after
        records = await ctx.store.scan(info.id, prefix=prefix, end=end, reverse=True,
                                       limit=limit + 1)
    more = len(records) > limit
    records = records[:limit]
    keys = []
    for record in records:
        entry: dict[str, Any] = {"name": record.key}
        if record.expiration is not None:
            entry["expiration"] = record.expiration
        if record.metadata is not None:
            entry["metadata"] = jsjson.parse(record.metadata)
        keys.append(entry)
    next_cursor = encode_cursor(records[-1].key) if more and records else ""
    return success(keys, {"count": len(keys), "cursor": next_cursor, "order": order})


async def preview_value(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                        raw_ns: str, raw_key: str) -> dict[str, Any]:
    """``{"size", "expiration", "metadata", "truncated", "base64"}`` of a value's head."""
    info = await ctx.namespace(access, account_id, raw_ns, "get")
    key = decode_segment(raw_key, "key name")
    limit = _int(request, "bytes", DEFAULT_PREVIEW_BYTES, 0, ctx.limits.max_value_size_bytes)
    record = await ctx.store.get(info.id, key)
    if record is None:
        raise ApiError(404, 10009, "get: 'key not found'")
    value = record.value or b""
    return success({
        "key": key,
        "size": len(value),
        "expiration": record.expiration,
        "metadata": None if record.metadata is None else jsjson.parse(record.metadata),
        "truncated": len(value) > limit,
        "base64": base64.b64encode(value[:limit]).decode("ascii"),
    })


async def bulk_upload(ctx: ApiContext, counts: KeyCounts, request: ApiRequest, access: Access,
                      account_id: str, raw_ns: str) -> dict[str, Any]:
    """Store a bulk file whole, or nothing: 400 lists every bad item (the CLI's texts)."""
    ctx.check_write(access)
    info = await ctx.namespace(access, account_id, raw_ns, "bulk put")
    filename = request.query.get("filename") or "upload.json"
    try:
        body = await read_body(request, ctx.max_body_bytes)
    except BodyTooLarge:
        raise ApiError(413, 10005, f"Request body exceeds the limit of {ctx.max_body_bytes} bytes") from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, 10001, f'Could not read "{filename}": it is not UTF-8 text') from None
    del body
    warnings: list[str] = []
    written = 0

    def tick() -> None:
        nonlocal written
        written += 1

    records = validated_records(io.StringIO(text), filename, ctx.binding(info.id),
                                on_item=tick, warnings=warnings)
    try:
        await ctx.store.write_batch(info.id, records)
    except BulkFileError as exc:
        raise ApiError(400, 10001, str(exc)) from None
    finally:
        counts.forget(info.id)
    return success({"successful_key_count": written, "unsuccessful_keys": []},
                   messages=[{"code": 10000, "message": w} for w in warnings])


async def export_namespace(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                           raw_ns: str, send: Send) -> None:
    """Stream the namespace as a pretty bulk file (``[{"key", "value", ...}, ...]``)."""
    info = await ctx.namespace(access, account_id, raw_ns, "export")
    prefix = request.query.get("prefix") or ""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", info.title) or info.id
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-disposition", f'attachment; filename="{name}.json"'.encode()),
        (b"cache-control", b"no-store"),
    ]})
    after: str | None = None
    first = True
    while True:
        page = await ctx.store.scan(info.id, prefix=prefix, start_after=after,
                                    limit=_EXPORT_PAGE, values=True)
        chunk = []
        for record in page:
            item = pretty(export_item(record))  # the same text as `edgekv kv namespace export`
            chunk.append(("[\n  " if first else ",\n  ") + item.replace("\n", "\n  "))
            first = False
        if chunk:
            await send({"type": "http.response.body",
                        "body": "".join(chunk).encode("utf-8", "surrogatepass"), "more_body": True})
        if len(page) < _EXPORT_PAGE:
            break
        after = page[-1].key
    await send({"type": "http.response.body", "body": b"[]\n" if first else b"\n]\n"})
