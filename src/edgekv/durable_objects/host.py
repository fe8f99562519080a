"""The live objects of one namespace: construction, serial event delivery, reset, eviction.

Execution model (what we chose, against Cloudflare's input gates, spec §1.7):

- **Strictly one event at a time per object**, in arrival order (a FIFO ``asyncio.Lock`` per
  object). Cloudflare lets events interleave while an object awaits *outbound* I/O (a fetch,
  an RPC call to another object) and only holds them while it awaits its *own storage* (the
  input gate). We hold them for every await. This is stricter, never weaker: every
  read-modify-write with storage awaits in between is atomic, exactly as on Cloudflare.
- **Re-entrant calls are let in**: if an event of object A calls B which calls back into A
  (or A calls itself), the nested call runs at once inside A's event instead of deadlocking —
  the one case where Cloudflare's interleaving is observable and required.
- The constructor runs on the first event (RPC, fetch or alarm); ``blockConcurrencyWhile``
  callbacks started there finish before that event is delivered.
- A constructor that raises, a failing or timed-out ``blockConcurrencyWhile``, or
  ``ctx.abort()`` resets the object: the instance is dropped and the next event constructs a
  new one. An exception from a handler does not reset.
- An object idle for ``idle_seconds`` (judged with the injected clock) with no queued event and
  no ``waitUntil`` work is evicted: its instance, context and SQLite handle are released and its
  registry entry is deleted, so an evicted object costs no memory at all. Storage stays.
- Replacing the class (``DurableObjectRuntime.namespace`` called again, e.g. on code reload)
  resets every object at its next event, as a code update does on Cloudflare.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import inspect
import logging
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edgekv.durable_objects.backends import KVBackend, SqliteBackend, StoreBackend
from edgekv.durable_objects.database import ObjectDatabase
from edgekv.durable_objects.errors import DurableObjectAbort, DurableObjectReset
from edgekv.durable_objects.ids import DurableObjectId, IdFactory
from edgekv.durable_objects.state import DurableObjectState
from edgekv.durable_objects.storage import DurableObjectStorage
from edgekv.durable_objects.websockets import Hibernation
from edgekv.errors import StorageError

if TYPE_CHECKING:
    from edgekv.durable_objects.alarms import AlarmInfo
    from edgekv.durable_objects.runtime import DurableObjectRuntime

__all__ = ["NamespaceHost"]

# The events running in the current task chain (to let re-entrant calls in).
_CHAIN: contextvars.ContextVar[tuple[object, ...]] = contextvars.ContextVar(
    "edgekv_do_chain", default=()
)
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_log = logging.getLogger(__name__)


class _Entry:
    """The registry entry of one object that is live or has events queued."""

    __slots__ = (
        "current",
        "db",
        "generation",
        "instance",
        "last_used",
        "lock",
        "object_id",
        "pending",
        "state",
    )

    def __init__(self, object_id: DurableObjectId) -> None:
        self.object_id = object_id
        self.lock = asyncio.Lock()
        self.instance: Any = None
        self.state: DurableObjectState | None = None
        self.generation = -1
        self.pending = 0
        self.last_used = 0.0
        self.current: object | None = None  # token of the event running now
        self.db: ObjectDatabase | None = None  # the SQLite file of a SQLite-backed object


def _dir_name(unique_key: str) -> str:
    safe = _SAFE.sub("_", unique_key)
    if safe != unique_key or not safe:
        safe = f"{safe}-{hashlib.sha256(unique_key.encode()).hexdigest()[:8]}"
    return safe


class NamespaceHost:
    """Owns the objects of one Durable Object class (one namespace)."""

    def __init__(
        self, runtime: DurableObjectRuntime, binding: str, cls: type, unique_key: str, sqlite: bool
    ) -> None:
        self.runtime = runtime
        self.binding = binding
        self.cls = cls
        self.unique_key = unique_key
        self.sqlite = sqlite
        self.ids = IdFactory(unique_key)
        self.generation = 0
        self.entries: dict[str, _Entry] = {}
        # Hibernatable WebSockets outlive instances (see durable_objects.websockets).
        self.hibernation = Hibernation(runtime.clock.now)

    def replace_class(self, cls: type, sqlite: bool) -> None:
        """Swap in new code; live objects are reset at their next event."""
        self.cls = cls
        self.sqlite = sqlite
        self.generation += 1

    # -- building an object --------------------------------------------------------------------

    def sqlite_path(self, id_hex: str) -> str:
        """Where the SQLite file of object ``id_hex`` lives."""
        root = self.runtime.state_dir
        return os.path.join(root, "do", _dir_name(self.unique_key), f"{id_hex}.sqlite3")

    def _new_state(self, object_id: DurableObjectId) -> tuple[DurableObjectState, ObjectDatabase | None]:
        rt = self.runtime
        id_hex = object_id.toString()
        db: ObjectDatabase | None = None
        backend: KVBackend
        if self.sqlite:
            db = ObjectDatabase(self.sqlite_path(id_hex))
            backend = SqliteBackend(db)
        else:
            backend = StoreBackend(rt.store, f"do:{self.unique_key}:{id_hex}")
        storage = DurableObjectStorage(
            backend,
            limits=rt.limits,
            alarms=rt.alarms,
            alarm_key=(self.unique_key, id_hex),
            object_name=object_id.name,
            has_alarm_handler=callable(getattr(self.cls, "alarm", None)),
            db=db,
        )
        state = DurableObjectState(object_id, storage, rt.limits.block_concurrency_timeout_seconds)
        state.websockets = self.hibernation.for_object(
            id_hex, lambda call: self.dispatch(object_id, call))
        return state, db

    async def _construct(self, entry: _Entry) -> None:
        state, entry.db = self._new_state(entry.object_id)
        entry.state = state
        entry.generation = self.generation
        if entry.db is not None:  # the constructor's SQL must not find the file locked either
            await entry.db.wait_unlocked()
        try:
            entry.instance = self.cls(state, self.runtime.env)
        except BaseException:
            self._reset(entry)
            raise
        failure = await state.drain_blockers()
        if failure is not None or state.broken:
            self._reset(entry)
            raise failure or DurableObjectReset("blockConcurrencyWhile() failed")
        try:  # the explorer lists objects and their names from this index (admin.py)
            await self.runtime.object_index.remember(self.unique_key, entry.object_id)
        except StorageError:
            _log.warning("could not record object %s in the object index", entry.object_id)

    def _reset(self, entry: _Entry) -> None:
        if entry.state is not None:
            entry.state.close()
        entry.state = None
        entry.instance = None
        entry.db = None

    # -- delivering events ---------------------------------------------------------------------

    async def dispatch(self, object_id: DurableObjectId, call: Callable[[Any], Any]) -> Any:
        """Deliver one event: ``call(instance)`` (sync or async) runs with the object to itself."""
        id_hex = object_id.toString()
        entry = self.entries.get(id_hex)
        if entry is None:
            entry = self.entries[id_hex] = _Entry(object_id)
        chain = _CHAIN.get()
        if entry.current is not None and entry.current in chain:
            return await self._invoke(entry, call)  # re-entrant: the caller is blocked on us
        entry.pending += 1
        try:
            async with entry.lock:
                token = object()
                entry.current = token
                reset = _CHAIN.set((*chain, token))
                try:
                    if entry.instance is not None and entry.generation != self.generation:
                        self._reset(entry)
                    if entry.instance is None:
                        await self._construct(entry)
                    elif entry.db is not None:  # another process may hold the file's lock
                        await entry.db.wait_unlocked()
                    return await self._invoke(entry, call)
                finally:
                    entry.current = None
                    _CHAIN.reset(reset)
        finally:
            entry.pending -= 1
            entry.last_used = self.runtime.clock.now()

    async def _invoke(self, entry: _Entry, call: Callable[[Any], Any]) -> Any:
        state = entry.state
        try:
            result = call(entry.instance)
            if inspect.isawaitable(result):
                result = await result
            return result
        except DurableObjectAbort as exc:
            self._reset(entry)
            raise DurableObjectReset(str(exc)) from None
        finally:
            if state is not None and entry.state is state:
                failure = await state.drain_blockers()
                if failure is not None or state.broken:
                    self._reset(entry)

    async def deliver_alarm(self, id_hex: str, name: str | None, info: AlarmInfo) -> bool:
        """Run ``alarm(alarm_info)``; ``True`` if it returned, ``False`` if it raised."""
        handler = getattr(self.cls, "alarm", None)
        if not callable(handler):
            return True
        wants_info = _accepts_argument(handler)

        def call(instance: Any) -> Any:
            return instance.alarm(info) if wants_info else instance.alarm()

        try:
            await self.dispatch(DurableObjectId(id_hex, name), call)
        except Exception:  # noqa: BLE001 - any failure means: retry the alarm
            return False
        return True

    # -- eviction ------------------------------------------------------------------------------

    def evict_idle(self, now: float, idle_seconds: float) -> int:
        """Evict objects idle for at least ``idle_seconds``; return how many."""
        evicted = 0
        for id_hex, entry in list(self.entries.items()):
            if entry.pending or entry.lock.locked() or now - entry.last_used < idle_seconds:
                continue
            if entry.state is not None and entry.state.busy:
                continue
            self._reset(entry)
            del self.entries[id_hex]
            evicted += 1
        return evicted

    def evict_all(self) -> None:
        """Drop every instance (shutdown); queued events, if any, construct anew."""
        for entry in self.entries.values():
            self._reset(entry)
        self.entries = {k: e for k, e in self.entries.items() if e.pending}

    @property
    def live_count(self) -> int:
        """How many objects currently have an instance in memory."""
        return sum(1 for e in self.entries.values() if e.instance is not None)


def _accepts_argument(method: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)
