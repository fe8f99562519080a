"""The explorer's Durable Object endpoints (admin credentials only).

Every read and write of an object's data runs through ``ObjectAdmin.run``: as one event of
the object, in its turn, with its own ``ctx.storage`` — never around a live object. Values
are shown as JSON where they are JSON-like (``codec`` types such as ``bytes`` or
``datetime`` are shown as text with their type and cannot be edited back to that type);
edits take JSON text. The SQL console rolls back whatever a statement changed unless the
request says ``"write": true``.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from edgekv.durable_objects import (
    DurableObjectError,
    DurableObjectState,
    DurableObjectTypeError,
    StoredValueError,
)
from edgekv.durable_objects.admin import ObjectAdmin
from edgekv.durable_objects.ids import DurableObjectId
from edgekv.server.api import Access
from edgekv.server.api.asgi import ApiRequest, BodyTooLarge, read_body
from edgekv.server.api.context import decode_segment
from edgekv.server.api.envelope import ApiError, success

__all__ = ["ObjectEndpoints", "display_value"]

_MAX_PAGE = 1000
_MAX_SQL_ROWS = 1000
_MAX_BODY = 2 * 1024 * 1024
NEED_ADMIN = ("Durable Objects belong to no account: their views need an admin token "
              "(edgekv token create --admin)")


class _Rollback(Exception):
    """Raised inside a read-only console transaction to undo what the statement did."""


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return abs(value) < 2**53
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False


def display_value(value: Any) -> dict[str, Any]:
    """``{"type", "json"}`` for JSON-like values, else ``{"type", "text"}`` (read-only)."""
    if _jsonable(value):
        return {"type": "json", "json": value}
    if isinstance(value, bytes):
        return {"type": "bytes", "text": value.hex(" "), "size": len(value)}
    return {"type": type(value).__name__, "text": repr(value)}


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


class ObjectEndpoints:
    """Handlers over one ``ObjectAdmin`` (``None`` when there is no Worker)."""

    def __init__(self, admin: ObjectAdmin | None) -> None:
        self.admin = admin

    # -- helpers ----------------------------------------------------------------------------

    def _need(self, access: Access) -> ObjectAdmin:
        if not access.admin:
            raise ApiError(403, 10000, NEED_ADMIN)
        if self.admin is None:
            raise ApiError(404, 10001, "this server runs no Worker, so it has no Durable Objects")
        return self.admin

    def _binding(self, admin: ObjectAdmin, raw: str) -> str:
        binding = decode_segment(raw, "binding")
        if binding not in {view.binding for view in admin.namespaces()}:
            raise ApiError(404, 10001, f"no Durable Object namespace is bound as {binding!r}")
        return binding

    def _id(self, admin: ObjectAdmin, binding: str, raw: str, request: ApiRequest) -> DurableObjectId:
        try:
            return admin.object_id(binding, hex_id=decode_segment(raw, "object id"),
                                   name=request.query.get("name") or None)
        except DurableObjectTypeError as exc:
            raise ApiError(400, 10001, str(exc)) from None

    async def _run(self, admin: ObjectAdmin, binding: str, object_id: DurableObjectId,
                   fn: Any) -> Any:
        try:
            return await admin.run(binding, object_id, fn)
        except ApiError:
            raise
        except (DurableObjectError, StoredValueError, TypeError, ValueError) as exc:
            raise ApiError(400, 10001, str(exc)) from None

    @staticmethod
    async def _json_body(request: ApiRequest) -> Any:
        try:
            body = await read_body(request, _MAX_BODY)
        except BodyTooLarge:
            raise ApiError(413, 10005, f"Request body exceeds the limit of {_MAX_BODY} bytes") from None
        try:
            return json.loads(body or b"null")
        except ValueError:
            raise ApiError(400, 10001, "the request body must be JSON") from None

    # -- namespaces, objects, alarms ------------------------------------------------------------

    async def namespaces(self, request: ApiRequest, access: Access) -> dict[str, Any]:
        admin = self._need(access)
        return success([{"binding": v.binding, "class_name": v.class_name,
                         "storage": "sqlite" if v.sqlite else "kv"} for v in admin.namespaces()])

    async def objects(self, request: ApiRequest, access: Access, raw_binding: str) -> dict[str, Any]:
        admin = self._need(access)
        binding = self._binding(admin, raw_binding)
        return success([{"id": o.id, "name": o.name} for o in await admin.objects(binding)])

    async def id_from_name(self, request: ApiRequest, access: Access, raw_binding: str) -> dict[str, Any]:
        admin = self._need(access)
        binding = self._binding(admin, raw_binding)
        name = request.query.get("name")
        if name is None:
            raise ApiError(400, 10001, "name is required")
        return success({"id": admin.object_id(binding, name=name).toString(), "name": name})

    async def alarms(self, request: ApiRequest, access: Access) -> dict[str, Any]:
        admin = self._need(access)
        return success(await admin.alarms())

    async def describe(self, request: ApiRequest, access: Access, raw_binding: str,
                       raw_id: str) -> dict[str, Any]:
        admin = self._need(access)
        binding = self._binding(admin, raw_binding)
        object_id = self._id(admin, binding, raw_id, request)
        sqlite = next(v.sqlite for v in admin.namespaces() if v.binding == binding)

        async def run(state: DurableObjectState) -> dict[str, Any]:
            alarm = await state.storage.getAlarm()
            size = state.storage.sql.databaseSize if sqlite else None
            return {"alarm_ms": alarm, "database_size": size}

        found = await self._run(admin, binding, object_id, run)
        return success({"id": object_id.toString(), "name": object_id.name,
                        "storage": "sqlite" if sqlite else "kv", **found})

    # -- key-value storage ----------------------------------------------------------------------

    async def list_kv(self, request: ApiRequest, access: Access, raw_binding: str,
                      raw_id: str) -> dict[str, Any]:
        admin = self._need(access)
        binding = self._binding(admin, raw_binding)
        object_id = self._id(admin, binding, raw_id, request)
        limit = int(request.query.get("limit") or 100)
        if not 1 <= limit <= _MAX_PAGE:
            raise ApiError(400, 10001, f"limit must be from 1 to {_MAX_PAGE}")
        options: dict[str, Any] = {"limit": limit + 1}
        if request.query.get("prefix"):
            options["prefix"] = request.query["prefix"]
        reverse = request.query.get("order") == "desc"
        options["reverse"] = reverse
        after = request.query.get("after")
        if after:
            if reverse:
                options["end"] = after
            else:
                options["startAfter"] = after

        async def run(state: DurableObjectState) -> list[tuple[str, Any]]:
            return list((await state.storage.list(options)).items())

        items = await self._run(admin, binding, object_id, run)
        more = len(items) > limit
        items = items[:limit]
        entries = [{"key": key, **display_value(value)} for key, value in items]
        return success(entries, {"count": len(entries),
                                 "after": items[-1][0] if more and items else ""})

    async def get_kv(self, request: ApiRequest, access: Access, raw_binding: str, raw_id: str,
                     raw_key: str) -> dict[str, Any]:
        admin = self._need(access)
        binding = self._binding(admin, raw_binding)
        object_id = self._id(admin, binding, raw_id, request)
        key = decode_segment(raw_key, "key")
        missing = object()

        async def run(state: DurableObjectState) -> Any:
            found = await state.storage.get([key])
            return found.get(key, missing)

        value = await self._run(admin, binding, object_id, run)
        if value is missing:
            raise ApiError(404, 10009, "key not found")
        return success({"key": key, **display_value(value)})

    async def put_kv(self, request: ApiRequest, access: Access, raw_binding: str, raw_id: str,
                     raw_key: str) -> dict[str, Any]:
        admin = self._need(access)
        if access.read_only:
            raise ApiError(403, 10000, "Authentication error")
        binding = self._binding(admin, raw_binding)
        object_id = self._id(admin, binding, raw_id, request)
        key = decode_segment(raw_key, "key")
        value = await self._json_body(request)

        async def run(state: DurableObjectState) -> None:
            await state.storage.put(key, value)

        await self._run(admin, binding, object_id, run)
        return success({})

    async def delete_kv(self, request: ApiRequest, access: Access, raw_binding: str, raw_id: str,
                        raw_key: str) -> dict[str, Any]:
        admin = self._need(access)
        if access.read_only:
            raise ApiError(403, 10000, "Authentication error")
        binding = self._binding(admin, raw_binding)
        object_id = self._id(admin, binding, raw_id, request)
        key = decode_segment(raw_key, "key")

        async def run(state: DurableObjectState) -> bool:
            return bool(await state.storage.delete(key))

        return success({"deleted": await self._run(admin, binding, object_id, run)})

    # -- SQL ------------------------------------------------------------------------------------

    def _sqlite(self, admin: ObjectAdmin, binding: str) -> None:
        if not next(v.sqlite for v in admin.namespaces() if v.binding == binding):
            raise ApiError(400, 10001, f"{binding} is a KV-backed class: it has no SQL tables")

    async def tables(self, request: ApiRequest, access: Access, raw_binding: str,
                     raw_id: str) -> dict[str, Any]:
        admin = self._need(access)
        binding = self._binding(admin, raw_binding)
        self._sqlite(admin, binding)
        object_id = self._id(admin, binding, raw_id, request)

        async def run(state: DurableObjectState) -> list[dict[str, Any]]:
            sql = state.storage.sql
            rows = sql.exec("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                            "ORDER BY name").raw()
            shown = []
            for name, kind in rows:
                if name.startswith(("_cf_", "__cf_", "sqlite_")):
                    continue
                quoted = '"' + name.replace('"', '""') + '"'
                count = sql.exec(f"SELECT COUNT(*) FROM {quoted}").one()
                shown.append({"name": name, "type": kind, "rows": next(iter(count.values()))})
            return shown

        return success(await self._run(admin, binding, object_id, run))

    async def rows(self, request: ApiRequest, access: Access, raw_binding: str, raw_id: str,
                   raw_table: str) -> dict[str, Any]:
        admin = self._need(access)
        binding = self._binding(admin, raw_binding)
        self._sqlite(admin, binding)
        object_id = self._id(admin, binding, raw_id, request)
        table = decode_segment(raw_table, "table")
        offset = int(request.query.get("offset") or 0)
        limit = min(int(request.query.get("limit") or 100), _MAX_SQL_ROWS)
        quoted = '"' + table.replace('"', '""') + '"'

        async def run(state: DurableObjectState) -> dict[str, Any]:
            cursor = state.storage.sql.exec(f"SELECT * FROM {quoted} LIMIT ? OFFSET ?", limit, offset)
            rows = [[_cell(v) for v in row] for row in cursor.raw()]
            return {"columns": cursor.columnNames, "rows": rows}

        return success(await self._run(admin, binding, object_id, run))

    async def console(self, request: ApiRequest, access: Access, raw_binding: str,
                      raw_id: str) -> dict[str, Any]:
        """Run one SQL text; changes are rolled back unless ``"write": true``."""
        admin = self._need(access)
        binding = self._binding(admin, raw_binding)
        self._sqlite(admin, binding)
        object_id = self._id(admin, binding, raw_id, request)
        body = await self._json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise ApiError(400, 10001, 'the body must be {"query": "...", "write": false}')
        write = body.get("write") is True
        if write and access.read_only:
            raise ApiError(403, 10000, "Authentication error")
        query = body["query"]

        def execute(state: DurableObjectState) -> dict[str, Any]:
            cursor = state.storage.sql.exec(query)
            rows = []
            for row in cursor.raw():
                rows.append([_cell(v) for v in row])
                if len(rows) >= _MAX_SQL_ROWS:
                    break
            return {"columns": cursor.columnNames, "rows": rows,
                    "rows_read": cursor.rowsRead, "rows_written": cursor.rowsWritten}

        async def run(state: DurableObjectState) -> dict[str, Any]:
            if write:
                return state.storage.transactionSync(lambda: execute(state))
            outcome: dict[str, Any] = {}

            def read_only() -> None:
                outcome.update(execute(state))
                raise _Rollback

            try:
                state.storage.transactionSync(read_only)
            except _Rollback:
                pass
            return {**outcome, "rolled_back": True}

        return success(await self._run(admin, binding, object_id, run))
