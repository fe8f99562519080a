"""The live objects of one namespace: construction, gated event delivery, reset, eviction.

Execution model (workerd's input and output gates, docs/durable-objects.md "Execution"; see
``gates.py``):

- An event (RPC, fetch, alarm) is delivered when the object's **input gate** is open. The gate
  is closed while a storage call is in flight, while a ``blockConcurrencyWhile`` callback runs
  and for the whole of a storage ``transaction``. An event that awaits anything else (a fetch,
  a timer, another object, a future another event resolves) leaves the gate open, so the next
  event or the alarm runs meanwhile, as in workerd. Re-entrant calls (A -> B -> A) therefore
  just work. Code between two awaits never interleaves with another event, and SQLite-backed
  storage calls complete without yielding, so a read-modify-write is atomic.
- **Output gate**: an event's result (or error) is handed back only once every write it
  started is durable. If storage broke (a failed commit, a failed write), the event fails
  with that error instead, the object is reset, and the stub that saw it is broken.
- The constructor runs on the first event; ``blockConcurrencyWhile`` callbacks started there
  hold the gate, so they finish before any event is delivered.
- A constructor that raises, a failing or timed-out ``blockConcurrencyWhile``, a broken
  storage or ``ctx.abort()`` resets the object: the instance is dropped and the next event
  constructs a new one. An exception from a handler does not reset.
- An object idle for ``idle_seconds`` (judged with the injected clock) with no queued event and
  no ``waitUntil`` work is evicted: its instance, context and SQLite handle are released and its
  registry entry is deleted, so an evicted object costs no memory at all. Storage stays.
- Replacing the class (``DurableObjectRuntime.namespace`` called again, e.g. on code reload)
  resets every object at its next event, as a code update does on Cloudflare.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edgekv.config.state import (
    durable_object_db_path,
    durable_object_dir,
    durable_object_history_path,
)
from edgekv.durable_objects.backends import (
    EngineSpaceBackend,
    KeyValueBackend,
    ObjectSqliteBackend,
)
from edgekv.durable_objects.database import ObjectDatabase
from edgekv.durable_objects.errors import DurableObjectAbort, DurableObjectReset
from edgekv.durable_objects.gates import CURRENT_STORAGE, InputGate
from edgekv.durable_objects.ids import DurableObjectId, IdFactory
from edgekv.durable_objects.pitr import History
from edgekv.durable_objects.state import DurableObjectState
from edgekv.durable_objects.storage import DurableObjectStorage, object_database
from edgekv.durable_objects.websockets import Hibernation
from edgekv.errors import StorageError

if TYPE_CHECKING:
    from edgekv.durable_objects.alarms import AlarmInfo
    from edgekv.durable_objects.runtime import DurableObjectRuntime

__all__ = ["NamespaceHost"]

_log = logging.getLogger(__name__)


class _Entry:
    """The registry entry of one object that is live or has events queued."""

    __slots__ = (
        "db",
        "gate",
        "generation",
        "instance",
        "last_used",
        "object_id",
        "pending",
        "state",
    )

    def __init__(self, object_id: DurableObjectId) -> None:
        self.object_id = object_id
        self.gate = InputGate()
        self.db: ObjectDatabase | None = None  # the SQLite file of a SQLite-backed object
        self.instance: Any = None
        self.state: DurableObjectState | None = None
        self.generation = -1
        self.pending = 0
        self.last_used = 0.0


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
        """Where the SQLite file of object ``id_hex`` lives (the state layout decides)."""
        return str(durable_object_db_path(self.runtime.state_dir, self.unique_key, id_hex))

    @property
    def sqlite_dir(self) -> str:
        """The folder of this class's SQLite files."""
        return str(durable_object_dir(self.runtime.state_dir, self.unique_key))

    def _new_state(self, object_id: DurableObjectId, gate: InputGate) -> DurableObjectState:
        rt = self.runtime
        id_hex = object_id.toString()
        db: ObjectDatabase | None = None
        backend: KeyValueBackend
        if self.sqlite:
            path = self.sqlite_path(id_hex)
            history = None
            if rt.limits.pitr_enabled:
                history = History(
                    str(durable_object_history_path(rt.state_dir, self.unique_key, id_hex)),
                    rt.clock,
                    rt.limits.pitr_max_age_seconds,
                    rt.limits.pitr_max_history_bytes,
                )
            db = ObjectDatabase(path, history)
            backend = ObjectSqliteBackend(db)
        else:
            backend = EngineSpaceBackend(rt.store, f"do:{self.unique_key}:{id_hex}")
        storage = DurableObjectStorage(
            backend,
            limits=rt.limits,
            alarms=rt.alarms,
            alarm_key=(self.unique_key, id_hex),
            object_name=object_id.name,
            db=db,
            delete_all_deletes_alarm=rt.compat.enabled("delete_all_deletes_alarm"),
        )
        storage.gate = gate
        state = DurableObjectState(
            object_id, storage, rt.limits.block_concurrency_timeout_seconds, gate
        )
        state.websockets = self.hibernation.for_object(
            id_hex, lambda call: self.dispatch(object_id, call))
        return state

    async def _construct(self, entry: _Entry) -> None:
        state = self._new_state(entry.object_id, entry.gate)
        entry.state = state
        entry.db = object_database(state.storage)
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
        # Holds taken by the old instance (a cancelled blocker, a call in flight) die with it.
        old, entry.gate = entry.gate, InputGate()
        old.abandon()

    # -- delivering events ---------------------------------------------------------------------

    async def dispatch(self, object_id: DurableObjectId, call: Callable[[Any], Any]) -> Any:
        """Deliver one event: ``call(instance)`` (sync or async) once the input gate is open."""
        id_hex = object_id.toString()
        entry = self.entries.get(id_hex)
        if entry is None:
            entry = self.entries[id_hex] = _Entry(object_id)
        entry.pending += 1
        try:
            while entry.gate.closed:
                await entry.gate.wait_open()
            if entry.instance is not None and entry.generation != self.generation:
                self._reset(entry)
            if entry.instance is None:
                await self._construct(entry)
            elif entry.db is not None:  # another process may hold the file's lock
                await entry.db.wait_unlocked()
            return await self._invoke(entry, call)
        finally:
            entry.pending -= 1
            entry.last_used = self.runtime.clock.now()

    async def _invoke(self, entry: _Entry, call: Callable[[Any], Any]) -> Any:
        state = entry.state
        token = CURRENT_STORAGE.set(state.storage if state is not None else None)
        try:
            result = call(entry.instance)
            if inspect.isawaitable(result):
                result = await result
        except DurableObjectAbort as exc:
            if state is not None:
                state.storage.discard_unconfirmed()
            self._reset(entry)
            raise DurableObjectReset(str(exc)) from None
        except BaseException:
            await self._settle(entry, state)
            raise
        finally:
            CURRENT_STORAGE.reset(token)
        await self._settle(entry, state)
        return result

    async def _settle(self, entry: _Entry, state: DurableObjectState | None) -> None:
        """After an event: pending blockers, then the output gate. Resets a broken object."""
        if state is None or entry.state is not state:
            return
        failure = await state.drain_blockers()
        if failure is not None or state.broken:
            self._reset(entry)
            return
        try:
            await state.storage.confirm()
        except BaseException as exc:
            if entry.state is state:
                self._reset(entry)
            if isinstance(exc, DurableObjectReset):
                raise exc.with_traceback(None) from None
            raise DurableObjectReset(str(exc)) from exc

    async def deliver_alarm(
        self,
        id_hex: str,
        name: str | None,
        info: AlarmInfo,
        started: Callable[[], None] = lambda: None,
    ) -> bool:
        """Run ``alarm(alarm_info)``; ``True`` if it returned, ``False`` if it raised.

        ``started()`` is called once the event is delivered (the input gate let it in).
        """
        handler = getattr(self.cls, "alarm", None)
        if not callable(handler):
            return True
        wants_info = _accepts_argument(handler)

        def call(instance: Any) -> Any:
            started()
            return instance.alarm(info) if wants_info else instance.alarm()

        try:
            await self.dispatch(DurableObjectId(id_hex, name), call)
        except Exception:  # noqa: BLE001 - any failure means: retry the alarm
            return False
        return True

    # -- test helpers (edgekv.testing) ------------------------------------------------------

    async def run_in(self, object_id: DurableObjectId, fn: Callable[[Any, Any], Any]) -> Any:
        """Run ``fn(instance, ctx)`` as an event of the object (vitest's runInDurableObject)."""
        id_hex = object_id.toString()

        def call(instance: Any) -> Any:
            entry = self.entries[id_hex]
            return fn(instance, entry.state)

        return await self.dispatch(object_id, call)

    def stored_ids(self) -> list[DurableObjectId]:
        """Ids of the objects that are live or have a SQLite file (KV-backed objects: while live;
        the shared engine cannot list its spaces). Keeping no record of other ids is what lets
        an evicted object cost no memory."""
        ids = {k: e.object_id for k, e in self.entries.items()}
        folder = self.sqlite_dir
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if name.endswith(".sqlite3") and len(name) == 64 + 8:
                    ids.setdefault(name[:64], DurableObjectId(name[:64]))
        return [ids[k] for k in sorted(ids)]

    def evict(self, object_id: DurableObjectId) -> None:
        """Drop the object's instance now, as if evicted; the next event constructs anew."""
        entry = self.entries.get(object_id.toString())
        if entry is not None:
            self._reset(entry)

    # -- eviction ------------------------------------------------------------------------------

    def evict_idle(self, now: float, idle_seconds: float) -> int:
        """Evict objects idle for at least ``idle_seconds``; return how many."""
        evicted = 0
        for id_hex, entry in list(self.entries.items()):
            if entry.pending or now - entry.last_used < idle_seconds:
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
