"""Key endpoints: list keys, read/write/delete a value, read metadata.

Values go through the namespace's KV binding (``ApiContext.binding``) so a value written
over HTTP obeys, and reads back exactly as, ``env.NS.put``/``get`` would.
"""

from __future__ import annotations

import re
from typing import Any

from edgekv.errors import KVError, KVSyntaxError, KVTypeError
from edgekv.kv import jsjson
from edgekv.server.api.access import Access
from edgekv.server.api.asgi import ApiRequest, BodyTooLarge, read_body
from edgekv.server.api.context import ApiContext, decode_segment, kv_error
from edgekv.server.api.envelope import ApiError, success
from edgekv.server.api.multipart import MultipartError, boundary_of, parse_form

__all__ = ["delete_value", "get_metadata", "get_value", "list_keys", "put_value"]

_INTEGER = re.compile(r"^[+-]?\d+$")
_MULTIPART_SLACK_BYTES = 64 * 1024  # boundaries and part headers around value and metadata
_MIN_LIST_LIMIT = 10  # the documented minimum of ?limit=


async def list_keys(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                    namespace_id: str) -> dict[str, Any]:
    info = await ctx.namespace(access, account_id, namespace_id, "list keys")
    options: dict[str, Any] = {}
    limit_text = request.query.get("limit") or ""
    if limit_text:
        if not _INTEGER.match(limit_text):
            raise ApiError(400, 10001, f"Invalid key_count_limit of {limit_text}. "
                           "Please specify an integer.")
        # Documented range 10-1000: smaller limits are raised to 10, larger ones refused
        # with the KV service's own text (from the binding).
        options["limit"] = max(int(limit_text), _MIN_LIST_LIMIT)
    if request.query.get("prefix"):
        options["prefix"] = request.query["prefix"]
    if request.query.get("cursor"):
        options["cursor"] = request.query["cursor"]
    try:
        page = await ctx.binding(info.id).list(options)
    except (KVError, KVTypeError) as exc:
        raise kv_error(exc) from None
    keys = [dict(entry) for entry in page["keys"]]
    return success(keys, {"count": len(keys), "cursor": page.get("cursor", "")})


async def get_value(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                    namespace_id: str, raw_key: str) -> tuple[bytes, int | None]:
    """The raw value and its expiration. Raises 404/10009 when the key is missing."""
    info = await ctx.namespace(access, account_id, namespace_id, "get")
    key = decode_segment(raw_key, "key name")
    record = await _record(ctx, info.id, key)
    if record is None:
        raise ApiError(404, 10009, "get: 'key not found'")
    return record.value or b"", record.expiration


async def get_metadata(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                       namespace_id: str, raw_key: str) -> dict[str, Any]:
    info = await ctx.namespace(access, account_id, namespace_id, "get metadata")
    key = decode_segment(raw_key, "key name")
    record = await _record(ctx, info.id, key)
    if record is None:
        raise ApiError(404, 10009, "get metadata: 'key not found'")
    return success(None if record.metadata is None else jsjson.parse(record.metadata))


async def _record(ctx: ApiContext, namespace_id: str, key: str) -> Any:
    from edgekv.kv.validation import check_key

    try:
        check_key(key, "GET", ctx.limits)
    except (KVError, KVTypeError) as exc:
        raise kv_error(exc) from None
    return await ctx.store.get(namespace_id, key)


def _query_int(request: ApiRequest, name: str) -> int | None:
    text = request.query.get(name)
    if text is None or text == "":
        return None
    if not _INTEGER.match(text.strip()):
        if name == "expiration_ttl":
            message = f"Invalid expiration_ttl of {text}. Please specify integer greater than 0."
        else:
            message = (f"Invalid expiration of {text}. Please specify integer greater than the "
                       "current number of seconds since the UNIX epoch.")
        raise ApiError(400, 10001, message)
    return int(text)


async def put_value(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                    namespace_id: str, raw_key: str) -> dict[str, Any]:
    ctx.check_write(access)
    info = await ctx.namespace(access, account_id, namespace_id, "put")
    key = decode_segment(raw_key, "key name")
    expiration = _query_int(request, "expiration")
    expiration_ttl = _query_int(request, "expiration_ttl")
    max_value = ctx.limits.max_value_size_bytes
    content_type = request.headers.get("content-type", "")
    try:
        boundary = boundary_of(content_type) if content_type else None
    except MultipartError as exc:
        raise ApiError(400, 10001, str(exc)) from None
    metadata: Any = None
    if boundary is None:
        declared = request.content_length()
        if declared is not None and declared > max_value:
            raise ApiError(413, 10001, f"Value length of {declared} exceeds limit of {max_value}.")
        try:
            value: bytes | bytearray = await read_body(request, min(ctx.max_body_bytes, max_value))
        except BodyTooLarge:
            raise ApiError(413, 10001, f"Value length exceeds limit of {max_value}.") from None
    else:
        limit = min(ctx.max_body_bytes,
                    max_value + ctx.limits.max_metadata_size_bytes + _MULTIPART_SLACK_BYTES)
        try:
            body = await read_body(request, limit)
        except BodyTooLarge:
            raise ApiError(413, 10001, f"Value length exceeds limit of {max_value}.") from None
        try:
            parts = parse_form(body, boundary)
        except MultipartError as exc:
            raise ApiError(400, 10001, str(exc)) from None
        del body
        if "value" not in parts:
            raise ApiError(400, 10001, "Missing value field")
        value = parts["value"]
        if "metadata" in parts and parts["metadata"].strip():
            try:
                metadata = jsjson.parse(parts["metadata"].decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise ApiError(400, 10001, "Invalid metadata JSON") from None
    binding = ctx.binding(info.id)
    try:
        record = binding.prepare_put(key, bytes(value) if isinstance(value, bytearray) else value,
                                     expiration=expiration, expiration_ttl=expiration_ttl,
                                     metadata=metadata)
    except (KVError, KVTypeError, KVSyntaxError) as exc:
        raise kv_error(exc) from None
    await ctx.store.put(info.id, record.key, record.value or b"", expiration=record.expiration,
                        metadata=record.metadata)
    return success({})


async def delete_value(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                       namespace_id: str, raw_key: str) -> dict[str, Any]:
    ctx.check_write(access)
    info = await ctx.namespace(access, account_id, namespace_id, "delete")
    key = decode_segment(raw_key, "key name")
    try:
        await ctx.binding(info.id).delete(key)
    except (KVError, KVTypeError) as exc:
        raise kv_error(exc) from None
    return success({})
