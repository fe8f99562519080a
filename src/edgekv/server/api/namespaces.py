"""Namespace endpoints: list (paged), create, get, rename, delete."""

from __future__ import annotations

import json
import secrets
from typing import Any

from edgekv.errors import NamespaceNotFound, NamespaceTitleExists
from edgekv.server.api.access import Access
from edgekv.server.api.asgi import ApiRequest, read_body
from edgekv.server.api.context import ApiContext
from edgekv.server.api.envelope import ApiError, success
from edgekv.storage import NamespaceInfo

__all__ = ["create_namespace", "delete_namespace", "get_namespace", "list_namespaces",
           "namespace_json", "rename_namespace"]

_MAX_TITLE_CHARS = 512
_MAX_SMALL_BODY = 64 * 1024


def namespace_json(info: NamespaceInfo) -> dict[str, Any]:
    """A namespace as the API shows it."""
    return {"id": info.id, "title": info.title, "supports_url_encoding": True}


def _int_query(request: ApiRequest, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, 10001, f"{name} must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise ApiError(400, 10001, f"{name} must be between {low} and {high}, got {value}")
    return value


async def list_namespaces(ctx: ApiContext, request: ApiRequest, access: Access,
                          account_id: str) -> dict[str, Any]:
    page = _int_query(request, "page", 1, 1, 1_000_000_000)
    per_page = _int_query(request, "per_page", 20, 1, 1000)
    order = request.query.get("order") or "id"
    direction = request.query.get("direction") or "asc"
    if order not in ("id", "title"):
        raise ApiError(400, 10001, f'order must be "id" or "title", got {order!r}')
    if direction not in ("asc", "desc"):
        raise ApiError(400, 10001, f'direction must be "asc" or "desc", got {direction!r}')
    found = [ns for ns in await ctx.store.list_namespaces(account_id)
             if access.covers_namespace(ns.id)]
    if order == "id":
        found.sort(key=lambda ns: ns.id)
    else:
        found.sort(key=lambda ns: (ns.title.encode("utf-8", "surrogatepass"), ns.id))
    if direction == "desc":
        found.reverse()
    start = (page - 1) * per_page
    shown = found[start:start + per_page]
    return success(
        [namespace_json(ns) for ns in shown],
        {"page": page, "per_page": per_page, "count": len(shown), "total_count": len(found)},
    )


async def _title(request: ApiRequest) -> str:
    body = await read_body(request, _MAX_SMALL_BODY)
    try:
        data = json.loads(body or b"null")
    except ValueError:
        raise ApiError(400, 10001, "the request body must be JSON: {\"title\": \"...\"}") from None
    title = data.get("title") if isinstance(data, dict) else None
    if not isinstance(title, str) or not title:
        raise ApiError(400, 10001, "title is required: a non-empty string")
    if len(title) > _MAX_TITLE_CHARS:
        raise ApiError(400, 10001, f"title must be at most {_MAX_TITLE_CHARS} characters")
    return title


async def create_namespace(ctx: ApiContext, request: ApiRequest, access: Access,
                           account_id: str) -> dict[str, Any]:
    ctx.check_write(access)
    title = await _title(request)
    if len(await ctx.store.list_namespaces(account_id)) >= ctx.max_namespaces_per_account:
        raise ApiError(400, 10026, "You have reached the maximum number of namespaces "
                       f"({ctx.max_namespaces_per_account}) for this account.")
    try:
        info = await ctx.store.create_namespace(secrets.token_hex(16), title, account_id)
    except NamespaceTitleExists:
        raise ApiError(400, 10014, "a namespace with this account ID and title already exists") from None
    return success(namespace_json(info))


async def get_namespace(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                        namespace_id: str) -> dict[str, Any]:
    info = await ctx.namespace(access, account_id, namespace_id, "get namespace")
    return success(namespace_json(info))


async def rename_namespace(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                           namespace_id: str) -> dict[str, Any]:
    ctx.check_write(access)
    info = await ctx.namespace(access, account_id, namespace_id, "rename namespace")
    title = await _title(request)
    try:
        renamed = await ctx.store.rename_namespace(info.id, title)
    except NamespaceTitleExists:
        raise ApiError(400, 10014, "a namespace with this account ID and title already exists") from None
    except NamespaceNotFound:
        raise ApiError(404, 10013, "rename namespace: 'namespace not found'") from None
    return success(namespace_json(renamed))


async def delete_namespace(ctx: ApiContext, request: ApiRequest, access: Access, account_id: str,
                           namespace_id: str) -> dict[str, Any]:
    ctx.check_write(access)
    info = await ctx.namespace(access, account_id, namespace_id, "remove namespace")
    try:
        await ctx.store.delete_namespace(info.id)
    except NamespaceNotFound:
        raise ApiError(404, 10013, "remove namespace: 'namespace not found'") from None
    return success({})
