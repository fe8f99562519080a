"""``ObjectAdmin``: what tools (the data explorer) may see and do with a runtime's objects.

Contract:
- ``run(binding, object_id, fn)`` calls ``fn(state)`` with the object's
  ``DurableObjectState`` as **one event of that object**, delivered when its input gate is
  open (the object constructed first if it is not live, as for any event), and run inside
  ``blockConcurrencyWhile`` so no other event interleaves with it. Events of the Worker
  that are waiting on something other than storage may interleave around it, exactly as
  two requests do on workerd (docs/durable-objects.md). Every explorer read and write of an
  object's storage goes through it, so a tool never reads or writes around a live object.
- ``ObjectIndex`` remembers, in the Durable Object store's space ``do-objects`` (key
  ``<unique key>\\x00<id hex>``, value JSON ``{"n": name or null}``), every object that was
  ever constructed, with its name when its id came from ``idFromName``: names cannot be
  recovered from ids. The runtime writes an entry the first time an object is
  constructed in a process (one small write; later constructions only check a set).
- ``objects(binding)`` lists the objects that have stored data: indexed objects whose
  storage is not empty, plus SQLite files found on disk (objects stored before the index
  existed are listed by id).
- ``alarms()`` reads the persisted alarm table (``do-alarms``) without waking anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from edgekv.durable_objects.ids import DurableObjectId
from edgekv.durable_objects.state import DurableObjectState
from edgekv.storage.base import Store

if TYPE_CHECKING:
    from edgekv.durable_objects.host import NamespaceHost
    from edgekv.durable_objects.runtime import DurableObjectRuntime

__all__ = ["INDEX_SPACE", "NamespaceView", "ObjectAdmin", "ObjectIndex", "StoredObject"]

T = TypeVar("T")
INDEX_SPACE = "do-objects"
_ALARM_SPACE = "do-alarms"


class ObjectIndex:
    """The persisted list of constructed objects and their names (see module docstring)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[str, str | None] = {}

    async def remember(self, unique_key: str, object_id: DurableObjectId) -> None:
        """Record ``object_id`` (and its name) unless this process already did."""
        key = f"{unique_key}\x00{object_id.toString()}"
        name = object_id.name
        if key in self._known and (name is None or self._known[key] == name):
            return
        if name is None:
            found = await self._store.get(INDEX_SPACE, key)
            if found is not None:
                self._known[key] = json.loads(found.value or b"{}").get("n")
                return
        self._known[key] = name
        await self._store.put(INDEX_SPACE, key, json.dumps({"n": name}).encode())

    async def entries(self, unique_key: str) -> dict[str, str | None]:
        """``{id hex: name or None}`` of the namespace's indexed objects."""
        records = await self._store.scan(INDEX_SPACE, prefix=f"{unique_key}\x00", values=True)
        found: dict[str, str | None] = {}
        for record in records:
            try:
                name = json.loads(record.value or b"{}").get("n")
            except (ValueError, AttributeError):
                name = None
            found[record.key.partition("\x00")[2]] = name if isinstance(name, str) else None
        return found


@dataclass(frozen=True, slots=True)
class NamespaceView:
    """A registered Durable Object namespace."""

    binding: str
    class_name: str
    unique_key: str
    sqlite: bool


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object that has stored data."""

    id: str
    name: str | None


class ObjectAdmin:
    """Tool access to the objects of ``runtime`` (see module docstring)."""

    def __init__(self, runtime: DurableObjectRuntime) -> None:
        self.runtime = runtime

    def _host(self, binding: str) -> NamespaceHost:
        return self.runtime.get_namespace(binding)._host

    def namespaces(self) -> list[NamespaceView]:
        """The registered namespaces, by binding name."""
        views = []
        for binding, namespace in sorted(self.runtime.bindings.items()):
            host = namespace._host
            views.append(NamespaceView(binding, host.cls.__name__, host.unique_key, host.sqlite))
        return views

    def object_id(self, binding: str, *, hex_id: str | None = None,
                  name: str | None = None) -> DurableObjectId:
        """The id of ``name`` (``idFromName``) or of ``hex_id`` (``idFromString``, with the
        name filled in when ``name`` is also given). Raises ``KeyError`` for an unknown
        binding, ``DurableObjectTypeError`` for an id of another namespace."""
        ids = self._host(binding).ids
        if hex_id is None:
            return ids.from_name(name or "")
        parsed = ids.from_string(hex_id)
        return DurableObjectId(parsed.toString(), name)

    async def objects(self, binding: str) -> list[StoredObject]:
        """The namespace's objects that have stored data, named ones first, then by id."""
        host = self._host(binding)
        index = await self.runtime.object_index.entries(host.unique_key)
        found: dict[str, str | None] = {}
        if host.sqlite:
            folder = host.sqlite_dir
            try:
                files = os.listdir(folder)
            except OSError:
                files = []
            for file in files:
                if file.endswith(".sqlite3") and len(file) == 64 + len(".sqlite3"):
                    id_hex = file.removesuffix(".sqlite3")
                    found[id_hex] = index.get(id_hex)
        else:
            for id_hex, name in index.items():
                space = f"do:{host.unique_key}:{id_hex}"
                if await self.runtime.store.scan(space, limit=1):
                    found[id_hex] = name
        objects = [StoredObject(id_hex, name) for id_hex, name in found.items()]
        objects.sort(key=lambda o: (o.name is None, o.name or "", o.id))
        return objects

    async def run(self, binding: str, object_id: DurableObjectId,
                  fn: Callable[[DurableObjectState], Awaitable[T]]) -> T:
        """``await fn(state)`` as one event of the object (see module docstring)."""
        host = self._host(binding)

        async def call(instance: Any) -> T:
            entry = host.entries[object_id.toString()]
            state = entry.state
            assert state is not None  # constructed by dispatch before the call
            return await state.blockConcurrencyWhile(lambda: fn(state))

        return await host.dispatch(object_id, call)

    async def alarms(self) -> list[dict[str, Any]]:
        """Pending alarms: ``{"binding", "class_name", "id", "name", "time_ms", "retry"}``."""
        by_key = {view.unique_key: view for view in self.namespaces()}
        shown = []
        for record in await self.runtime.store.scan(_ALARM_SPACE, values=True):
            unique_key, _, id_hex = record.key.partition("\x00")
            try:
                doc = json.loads(record.value or b"{}")
                millis = int(doc["t"])
            except (ValueError, KeyError, TypeError):
                continue
            view = by_key.get(unique_key)
            shown.append({
                "binding": view.binding if view else None,
                "class_name": view.class_name if view else None,
                "unique_key": unique_key, "id": id_hex, "name": doc.get("n"),
                "time_ms": millis, "retry": int(doc.get("r") or 0),
            })
        shown.sort(key=lambda a: a["time_ms"])
        return shown
