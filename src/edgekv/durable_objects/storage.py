"""``ctx.storage``: the Durable Object storage API (docs/durable-objects.md,
"ctx.storage").

Contract:
- Values are structured Python data (see ``codec``); a value read back is a fresh copy.
- ``get``/``put``/``delete`` take one key or up to 128 keys; list results are ``dict``s ordered
  by the keys' UTF-8 bytes, missing keys left out.
- Every write is durable when its ``await`` returns (no write-back cache, no coalescing): the
  output gate is trivially open. ``sync()`` therefore returns at once.
- ``transaction(fn)`` commits what ``fn`` wrote when it returns, and discards it if it raises or
  calls ``txn.rollback()``. KV-backed objects buffer the writes; SQLite-backed objects use a
  savepoint, which also covers ``sql.exec`` statements run inside.
- Options such as ``allowConcurrency``, ``allowUnconfirmed`` and ``noCache`` are accepted and
  ignored: every operation is already confirmed and serialized.
- Errors keep workerd's texts where workerd (or Miniflare, for the size limits that only the
  production service enforces) defines them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import math
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from edgekv.durable_objects import codec
from edgekv.durable_objects.backends import KeyValueBackend
from edgekv.durable_objects.database import ConstraintReset, ObjectDatabase
from edgekv.durable_objects.errors import (
    DurableObjectError,
    DurableObjectRangeError,
    DurableObjectTypeError,
)
from edgekv.durable_objects.gates import InputGate, start_eagerly
from edgekv.durable_objects.limits import DurableObjectLimits
from edgekv.durable_objects.pitr import History, format_bookmark, parse_bookmark
from edgekv.js import undefined
from edgekv.storage.base import prefix_upper_bound

if TYPE_CHECKING:
    from edgekv.durable_objects.alarms import AlarmScheduler
    from edgekv.durable_objects.sql import SqlStorage

__all__ = [
    "DurableObjectStorage",
    "DurableObjectTransaction",
    "SyncKV",
    "close_storage",
    "object_database",
]

T = TypeVar("T")

NOT_SQL = "Durable Object is not backed by SQL."
SQL_NOT_ENABLED = (
    "SQL is not enabled for this Durable Object class. To enable it, change "
    "`new_classes` to `new_sqlite_classes` within the 'migrations' field in "
    "your wrangler.jsonc or wrangler.toml file. If using workerd directly,"
    "set `enableSql = true` in your workerd config for the class. Note "
    "that this change cannot be made after the class is "
    "already deployed to production."
)
ENTRY_TOO_BIG = "string or blob too big: SQLITE_TOOBIG"
CRITICAL_COMMIT = "Cannot commit transaction due to an earlier SQL critical error"
PITR_DISABLED = "Point-in-time recovery is disabled for this runtime (pitr_enabled=False)."


class _AlarmUndo:
    """What one transaction must restore if it rolls back: the alarm as it was before."""

    __slots__ = ("previous", "touched")

    def __init__(self) -> None:
        self.touched = False  # an alarm call was made inside the transaction
        self.previous: tuple[int, str | None] | None = None


# -- validation shared by the async and sync APIs ----------------------------------------


def _key(key: Any, limits: DurableObjectLimits, sqlite: bool, many: bool = False) -> str:
    if not isinstance(key, str):
        raise DurableObjectTypeError(f"Storage keys must be strings, not {type(key).__name__}")
    if not sqlite and len(key.encode("utf-8")) > limits.max_key_size_bytes:
        limit = limits.max_key_size_bytes
        if many:
            raise DurableObjectRangeError(f'Key "{key}" is larger than the limit of {limit} bytes.')
        raise DurableObjectRangeError(f"Keys cannot be larger than {limit} bytes.")
    return key


def _keys(keys: Any, limits: DurableObjectLimits, sqlite: bool) -> list[str]:
    keys = list(keys)
    if len(keys) > limits.max_keys_per_call:
        raise DurableObjectRangeError(f"Maximum number of keys is {limits.max_keys_per_call}.")
    return [_key(k, limits, sqlite, many=True) for k in keys]


def _entry(
    key: Any, value: Any, limits: DurableObjectLimits, sqlite: bool, many: bool = False
) -> tuple[str, bytes]:
    key = _key(key, limits, sqlite, many)
    data = codec.encode(value)
    if sqlite:
        if len(key.encode("utf-8")) + len(data) > limits.max_sqlite_entry_size_bytes:
            raise DurableObjectError(ENTRY_TOO_BIG)
    elif len(data) > limits.max_value_size_bytes:
        limit = limits.max_value_size_bytes
        if many:
            raise DurableObjectRangeError(f'Value for key "{key}" is above the limit of {limit} bytes.')
        raise DurableObjectRangeError(f"Values cannot be larger than {limit} bytes.")
    return key, data


def _list_range(
    options: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
) -> tuple[str, str | None, bool, int | None] | None:
    """Normalize list options to ``(start, end, reverse, limit)``; ``None`` = empty range.

    Mirrors workerd: ``startAfter`` becomes an inclusive start just after it, and ``prefix``
    clamps ``start``/``end``.
    """
    opts = {**(options or {}), **kwargs}
    start = opts.get("start")
    start_after = opts.get("startAfter", opts.get("start_after"))
    if start is not None and start_after is not None:
        raise DurableObjectTypeError(
            "list() cannot be called with both start and startAfter values."
        )
    limit = opts.get("limit")
    if limit is not None and (type(limit) not in (int, float) or limit <= 0):
        raise DurableObjectTypeError("List limit must be positive.")
    begin: str = start if start is not None else ""
    if start_after is not None:
        begin = start_after + "\x00"  # the smallest key after start_after
    end: str | None = opts.get("end")
    prefix: str = opts.get("prefix") or ""
    if prefix:
        if begin < prefix:
            begin = prefix
        elif not begin.startswith(prefix):
            return None
        upper = prefix_upper_bound(prefix)
        if upper is not None and (end is None or end > upper):
            end = upper
    if end is not None and end <= begin:
        return None
    return begin, end, bool(opts.get("reverse", False)), None if limit is None else int(limit)


async def _after(prev: asyncio.Future[Any], coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` once ``prev`` has finished (whatever its outcome): calls stay in order."""
    await asyncio.wait([prev])
    return await coro


def _to_millis(scheduled: Any) -> int:
    if isinstance(scheduled, dt.datetime):
        if scheduled.tzinfo is None:  # Workers run in UTC
            scheduled = scheduled.replace(tzinfo=dt.UTC)
        return int(scheduled.timestamp() * 1000)
    if type(scheduled) in (int, float):
        if not math.isfinite(scheduled):  # workerd's kj::Date conversion (jsg DateWrapper)
            raise DurableObjectTypeError("The value cannot be converted because it is not a valid Date.")
        return int(scheduled)
    raise DurableObjectTypeError("setAlarm() requires a datetime or milliseconds since the epoch")


# -- the operations common to storage and transactions -------------------------------------


class _Operations:
    """``get``/``put``/``delete``/``list`` with validation and the codec, over a backend.

    Every public call starts at once (``_start``) and returns an awaitable of its result, as
    a JavaScript promise does: a write that is never awaited still happens, and arguments
    (buffers included) are encoded at call time.
    """

    _limits: DurableObjectLimits
    _sqlite: bool

    def _check(self, op: str) -> None:
        """Raise if this operator can no longer be used (transactions override)."""

    def _backend_ops(self) -> KeyValueBackend:
        raise NotImplementedError

    def _start(self, coro: Coroutine[Any, Any, T], write: bool) -> asyncio.Future[T]:
        raise NotImplementedError

    def get(self, keys: Any, options: Any = None, **_options: Any) -> Awaitable[Any]:
        """The value of one key (``None`` if missing), or a ``dict`` for a list of keys."""
        return self._start(self._get(keys), write=False)

    async def _get(self, keys: Any) -> Any:
        self._check("get()")
        backend = self._backend_ops()
        if isinstance(keys, str):
            data = await backend.get(_key(keys, self._limits, self._sqlite))
            return None if data is None else codec.decode(data)
        wanted = _keys(keys, self._limits, self._sqlite)
        found = await backend.get_many(wanted)
        return {key: codec.decode(found[key]) for key in sorted(found)}

    def put(
        self, key_or_entries: Any, value: Any = undefined, options: Any = None, **_options: Any
    ) -> Awaitable[None]:
        """``put(key, value)`` or ``put({key: value, ...})`` (at most 128 pairs)."""
        return self._start(self._put(key_or_entries, value), write=True)

    async def _put(self, key_or_entries: Any, value: Any) -> None:
        self._check("put()")
        if isinstance(key_or_entries, Mapping):
            if len(key_or_entries) > self._limits.max_keys_per_call:
                raise DurableObjectRangeError(
                    f"Maximum number of pairs is {self._limits.max_keys_per_call}."
                )
            puts = [
                _entry(k, v, self._limits, self._sqlite, many=True)
                for k, v in key_or_entries.items()
            ]
        else:
            if value is undefined:
                raise DurableObjectTypeError("put() called with undefined value.")
            puts = [_entry(key_or_entries, value, self._limits, self._sqlite)]
        if puts:
            await self._backend_ops().write(puts, ())

    def delete(self, keys: Any, options: Any = None, **_options: Any) -> Awaitable[bool | int]:
        """Delete one key (``True`` if it existed) or a list of keys (how many existed)."""
        return self._start(self._delete(keys), write=True)

    async def _delete(self, keys: Any) -> bool | int:
        self._check("delete()")
        if isinstance(keys, str):
            key = _key(keys, self._limits, self._sqlite)
            return await self._backend_ops().delete_many([key]) > 0
        return await self._backend_ops().delete_many(_keys(keys, self._limits, self._sqlite))

    def list(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> Awaitable[dict[str, Any]]:
        """Entries in key order: ``start``, ``startAfter``, ``end``, ``prefix``, ``reverse``, ``limit``.

        Options may be given as a dict (JS style) or keywords (``start_after`` also accepted).
        """
        return self._start(self._list(options, kwargs), write=False)

    async def _list(self, options: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        self._check("list()")
        bounds = _list_range(options, kwargs)
        if bounds is None:
            return {}
        rows = await self._backend_ops().scan(*bounds)
        return {key: codec.decode(data) for key, data in rows}


# -- transactions ----------------------------------------------------------------------------


class DurableObjectTransaction(_Operations):
    """The ``txn`` passed to ``transaction(fn)``: the storage API plus ``rollback()``."""

    def __init__(self, storage: DurableObjectStorage) -> None:
        self._storage = storage
        self._limits = storage._limits
        self._sqlite = storage._sqlite
        self._rolled_back = False
        self._finished = False
        self._overlay: dict[str, bytes | None] = {}  # KV-backed only: buffered writes
        self._savepoint: str | None = None  # SQLite-backed only
        self._pending: list[asyncio.Future[Any]] = []  # calls started, awaited at commit

    def _start(self, coro: Coroutine[Any, Any, T], write: bool) -> asyncio.Future[T]:
        future = start_eagerly(coro)
        if not future.done():
            self._pending.append(future)
        return future

    async def _settle(self) -> None:
        """Wait for calls the closure started but did not await (they belong to the txn)."""
        while self._pending:
            pending, self._pending = self._pending, []
            await asyncio.wait(pending)

    def _check(self, op: str) -> None:
        if self._rolled_back:
            raise DurableObjectError(f"Cannot {op} on rolled back transaction")
        if self._finished:
            raise DurableObjectError(
                f"Cannot call {op} on transaction that has already committed: "
                "did you move `txn` outside of the closure?"
            )

    def _backend_ops(self) -> KeyValueBackend:
        return self._storage._backend if self._sqlite else _Overlay(self)  # type: ignore[return-value]

    def rollback(self) -> None:
        """Discard everything written in this transaction; further use raises."""
        if self._rolled_back:
            return
        self._check("rollback()")
        self._rolled_back = True
        self._overlay.clear()
        if self._savepoint is not None:
            self._storage._db_or_raise().rollback_to(self._savepoint)
            self._savepoint = None

    async def deleteAll(self, options: Any = None) -> None:
        raise DurableObjectError("Cannot call deleteAll() within a transaction")

    delete_all = deleteAll

    def getAlarm(self, options: Any = None) -> Awaitable[int | None]:
        self._check("getAlarm()")
        return self._track(self._storage.getAlarm(options))

    def setAlarm(self, scheduled: Any, options: Any = None) -> Awaitable[None]:
        self._check("setAlarm()")
        return self._track(self._storage.setAlarm(scheduled, options))

    def deleteAlarm(self, options: Any = None) -> Awaitable[None]:
        self._check("deleteAlarm()")
        return self._track(self._storage.deleteAlarm(options))

    def _track(self, future: Awaitable[T]) -> Awaitable[T]:
        if isinstance(future, asyncio.Future) and not future.done():
            self._pending.append(future)
        return future

    get_alarm, set_alarm, delete_alarm = getAlarm, setAlarm, deleteAlarm


class _Overlay:
    """A KV-backed transaction's view: buffered writes over the committed data."""

    __slots__ = ("_base", "_txn")

    def __init__(self, txn: DurableObjectTransaction) -> None:
        self._txn = txn
        self._base = txn._storage._backend

    async def get(self, key: str) -> bytes | None:
        overlay = self._txn._overlay
        return overlay[key] if key in overlay else await self._base.get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        overlay = self._txn._overlay
        found = await self._base.get_many([k for k in keys if k not in overlay])
        for key in keys:
            if key in overlay and overlay[key] is not None:
                found[key] = overlay[key]  # type: ignore[assignment]
        return found

    async def write(self, puts: Sequence[tuple[str, bytes]], deletes: Sequence[str]) -> None:
        for key in deletes:
            self._txn._overlay[key] = None
        for key, value in puts:
            self._txn._overlay[key] = value

    async def delete_many(self, keys: Sequence[str]) -> int:
        existing = await self.get_many(list(dict.fromkeys(keys)))
        await self.write((), keys)
        return len(existing)

    async def scan(
        self, start: str, end: str | None, reverse: bool, limit: int | None
    ) -> list[tuple[str, bytes]]:
        overlay = self._txn._overlay
        # Each buffered delete hides at most one committed row: over-fetch by the overlay size.
        wider = None if limit is None else limit + len(overlay)
        merged = dict(await self._base.scan(start, end, reverse, wider))
        for key, value in overlay.items():
            if key >= start and (end is None or key < end):
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
        rows = sorted(merged.items(), reverse=reverse)
        return rows if limit is None else rows[:limit]


# -- the storage object -----------------------------------------------------------------------


class DurableObjectStorage(_Operations):
    """``ctx.storage`` of one object."""

    def __init__(
        self,
        backend: KeyValueBackend,
        *,
        limits: DurableObjectLimits,
        alarms: AlarmScheduler,
        alarm_key: tuple[str, str],
        object_name: str | None,
        db: ObjectDatabase | None = None,
        delete_all_deletes_alarm: bool = False,
    ) -> None:
        self._backend = backend
        self._limits = limits
        self._sqlite = db is not None
        self._db = db
        self._alarms = alarms
        self._alarm_key = alarm_key
        self._object_name = object_name
        self._sql: SqlStorage | None = None
        self._kv: SyncKV | None = None
        self._delete_all_deletes_alarm = delete_all_deletes_alarm
        self.gate: InputGate | None = None  # set by the host: storage calls close it
        self._tail: asyncio.Future[Any] | None = None  # the last call still in flight
        self._writes: set[asyncio.Future[Any]] = set()  # unconfirmed writes (output gate)
        self._write_failure: BaseException | None = None
        self._undo: list[_AlarmUndo] = []  # one per open transaction: the alarm before it

    def _backend_ops(self) -> KeyValueBackend:
        return self._backend

    def _start(self, coro: Coroutine[Any, Any, T], write: bool) -> asyncio.Future[T]:
        """Start a storage call now, after the calls already in flight (they run in order).

        A call that suspends (the shared engine, alarms) holds the input gate closed until it
        completes; a write is tracked until confirmed (the output gate).
        """
        prev = self._tail
        if prev is not None and not prev.done():
            coro = _after(prev, coro)
        future = start_eagerly(coro)
        if not future.done():
            self._tail = future
            gate = self.gate
            if gate is not None:
                gate.close()
                future.add_done_callback(lambda _f: gate.open_later())
            if write:
                self._writes.add(future)
                future.add_done_callback(self._write_done)
        return future

    def _write_done(self, future: asyncio.Future[Any]) -> None:
        self._writes.discard(future)
        if not future.cancelled() and future.exception() is not None:
            self._write_failure = self._write_failure or future.exception()

    async def confirm(self) -> None:
        """The output gate: wait until every write is durable; raise what broke storage."""
        while self._writes:
            await asyncio.wait(list(self._writes))
        if self._write_failure is not None:
            raise self._write_failure
        if self._db is not None:
            self._db.flush()  # commit this turn's implicit transaction (raises if broken)

    def discard_unconfirmed(self) -> None:
        """Drop writes not yet committed (``ctx.abort()``: workerd cancels unflushed writes)."""
        if self._db is not None:
            self._db.discard()

    @property
    def broken(self) -> BaseException | None:
        """The error that broke this object's storage (a failed commit), if any."""
        if self._db is not None and self._db.broken is not None:
            return self._db.broken
        return self._write_failure

    def _db_or_raise(self) -> ObjectDatabase:
        if self._db is None:
            raise DurableObjectError(NOT_SQL)
        return self._db

    # -- whole-object operations --------------------------------------------------------------

    def deleteAll(self, options: Any = None) -> Awaitable[None]:
        """Delete every key (and, SQLite-backed, every SQL table).

        The alarm is kept, unless the compatibility flag ``delete_all_deletes_alarm`` is on
        (default from compatibility date 2026-02-24), as in workerd.
        """
        return self._start(self._delete_all(), write=True)

    async def _delete_all(self) -> None:
        await self._backend.delete_all()
        if self._delete_all_deletes_alarm:
            await self._alarms.delete(self._alarm_key)

    async def transaction(self, closure: Callable[[DurableObjectTransaction], Any], options: Any = None) -> Any:
        """Run ``closure(txn)``; commit its writes if it returns, roll back if it raises.

        The input gate stays closed for the whole transaction: no other event of this object
        runs in between, whatever the closure awaits.
        """
        prev = self._tail
        if prev is not None and not prev.done():
            await asyncio.wait([prev])  # calls started before the transaction come first
        if self._db is not None:
            self._db.flush()  # as workerd: the implicit transaction commits first
        gate = self.gate
        if gate is not None:
            gate.close()
        try:
            return await self._transaction(closure)
        finally:
            if gate is not None:
                gate.open_later()

    async def _transaction(self, closure: Callable[[DurableObjectTransaction], Any]) -> Any:
        txn = DurableObjectTransaction(self)
        if self._db is not None:
            txn._savepoint = self._db.savepoint()
        self._undo.append(_AlarmUndo())
        try:
            result = closure(txn)
            if inspect.isawaitable(result):
                result = await result
            await txn._settle()
        except BaseException:
            self._end_frame(commit=False)
            if not txn._rolled_back:
                txn.rollback()
            txn._finished = True
            raise
        if txn._rolled_back:
            self._end_frame(commit=False)
            txn._finished = True
            if self._db is not None:
                self._db.require_not_broken()  # a critical error inside: the event fails with it
            return result
        self._end_frame(commit=True)
        if not txn._rolled_back:
            if txn._savepoint is not None:
                self._commit(txn._savepoint)
            elif txn._overlay:
                puts = [(k, v) for k, v in txn._overlay.items() if v is not None]
                deletes = [k for k, v in txn._overlay.items() if v is None]
                await self._backend.write(puts, deletes)
        txn._finished = True
        return result

    def _commit(self, savepoint: str) -> None:
        """Release ``savepoint``. A failed commit has rolled back and broken the database; as
        in workerd it surfaces through the output gate (the event fails, the object resets),
        not here. After a critical error nothing can commit."""
        db = self._db_or_raise()
        if db.broken is not None and not isinstance(db.broken, ConstraintReset):
            raise DurableObjectError(CRITICAL_COMMIT)
        try:
            db.release(savepoint)
        except ConstraintReset:
            pass

    # -- alarms inside transactions: undone with them ------------------------------------------

    def _end_frame(self, commit: bool) -> None:
        """Close the innermost transaction's alarm record: undo it, or hand it to the parent."""
        frame = self._undo.pop()
        if not frame.touched:
            return
        if not commit:
            self._start(self._restore_alarm(frame), write=True)
        elif self._undo and not self._undo[-1].touched:
            self._undo[-1] = frame  # the outer transaction undoes back to the same state

    def _alarm_change(self, change: Coroutine[Any, Any, None]) -> Awaitable[None]:
        frame = self._undo[-1] if self._undo else None
        if frame is not None and not frame.touched:
            frame.touched = True
            remember = frame
        else:
            remember = None

        async def run() -> None:
            if remember is not None:
                remember.previous = await self._alarms.peek(self._alarm_key)
            await change

        return self._start(run(), write=True)

    async def _restore_alarm(self, frame: _AlarmUndo) -> None:
        if frame.previous is None:
            await self._alarms.delete(self._alarm_key)
        else:
            millis, name = frame.previous
            await self._alarms.set(self._alarm_key, millis, name)

    def transactionSync(self, fn: Callable[[], T]) -> T:
        """SQLite only: run the synchronous ``fn`` in a savepoint; roll back if it raises."""
        db = self._db_or_raise()
        name = db.savepoint()
        self._undo.append(_AlarmUndo())
        try:
            result = fn()
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise DurableObjectTypeError("transactionSync() requires a synchronous callback")
        except BaseException:
            self._end_frame(commit=False)
            db.rollback_to(name)
            raise
        self._end_frame(commit=True)
        self._commit(name)
        return result

    def sync(self) -> Awaitable[None]:
        """Resolve once every earlier write is durable (raises if storage is broken)."""
        return asyncio.ensure_future(self.confirm())

    # -- alarms -------------------------------------------------------------------------------

    def getAlarm(self, options: Any = None) -> Awaitable[int | None]:
        """The scheduled alarm in milliseconds since the epoch, or ``None``."""
        return self._start(self._alarms.get(self._alarm_key), write=False)

    def setAlarm(self, scheduled: Any, options: Any = None) -> Awaitable[None]:
        """Schedule the alarm (a ``datetime`` or epoch milliseconds); a past time runs at once.

        A Python Durable Object may always set an alarm (on Cloudflare its class is wrapped in
        a proxy that has ``alarm``); the alarm of a class without ``alarm()`` fires as a no-op.
        """
        return self._alarm_change(self._set_alarm(scheduled))

    async def _set_alarm(self, scheduled: Any) -> None:
        millis = _to_millis(scheduled)
        if millis <= 0:
            raise DurableObjectTypeError("setAlarm() cannot be called with an alarm time <= 0")
        # No "must have an alarm() handler" check: workerd wraps every Python Durable Object
        # class in a JS class that defines alarm(), so setAlarm() succeeds on a class without
        # one (the alarm then fires into nothing).
        await self._alarms.set(self._alarm_key, millis, self._object_name)

    def deleteAlarm(self, options: Any = None) -> Awaitable[None]:
        """Cancel the alarm (a handler already running is not interrupted)."""
        return self._alarm_change(self._alarms.delete(self._alarm_key))

    # -- point-in-time recovery (SQLite only) ---------------------------------------------------

    def _history(self) -> History:
        db = self._db_or_raise()
        if db.history is None:
            raise DurableObjectError(PITR_DISABLED)
        return db.history

    def getCurrentBookmark(self) -> Awaitable[str]:
        """A bookmark for the current state (commits pending writes first); always advances."""

        async def current() -> str:
            history = self._history()
            self._db_or_raise().flush()
            return format_bookmark(history.mark())

        return self._start(current(), write=False)

    def getBookmarkForTime(self, timestamp: Any) -> Awaitable[str]:
        """The bookmark of the state at ``timestamp`` (a ``datetime`` or epoch ms), within the
        retained history (30 days by default). Raises ``DurableObjectRangeError`` if older."""

        async def for_time() -> str:
            history = self._history()
            self._db_or_raise().flush()
            return format_bookmark(history.seq_for_time(_to_millis(timestamp)))

        return self._start(for_time(), write=False)

    def onNextSessionRestoreBookmark(self, bookmark: str) -> Awaitable[str]:
        """Restore the state at ``bookmark`` when the object next starts (e.g. after
        ``ctx.abort()``); returns a bookmark of the current state, to undo the restore."""

        async def schedule() -> str:
            history = self._history()
            seq = parse_bookmark(bookmark)
            self._db_or_raise().flush()
            history.check(seq)
            history.set_pending_restore(seq)  # first: pruning never drops a pending point
            undo = history.mark()
            return format_bookmark(undo)

        return self._start(schedule(), write=True)

    get_current_bookmark = getCurrentBookmark
    get_bookmark_for_time = getBookmarkForTime
    on_next_session_restore_bookmark = onNextSessionRestoreBookmark

    # -- SQLite-only surfaces -------------------------------------------------------------------

    @property
    def sql(self) -> SqlStorage:
        """The SQL API. Raises ``DurableObjectError`` for KV-backed classes."""
        if self._db is None:
            raise DurableObjectError(SQL_NOT_ENABLED)
        if self._sql is None:
            from edgekv.durable_objects.sql import SqlStorage

            self._sql = SqlStorage(self._db)
        return self._sql

    @property
    def kv(self) -> SyncKV:
        """The synchronous KV API (SQLite only)."""
        db = self._db_or_raise()
        if self._kv is None:
            self._kv = SyncKV(db, self._limits)
        return self._kv

    delete_all = deleteAll
    transaction_sync = transactionSync
    get_alarm, set_alarm, delete_alarm = getAlarm, setAlarm, deleteAlarm


class SyncKV:
    """``ctx.storage.kv``: synchronous ``get``/``put``/``delete``/``list`` (SQLite-backed only)."""

    __slots__ = ("_current", "_db", "_limits")

    def __init__(self, db: ObjectDatabase, limits: DurableObjectLimits) -> None:
        self._db = db
        self._limits = limits
        self._current: SyncListIterator | None = None  # the one live list() iterator

    def get(self, key: str) -> Any:
        data = self._db.kv_get(_key(key, self._limits, True))
        return None if data is None else codec.decode(data)

    def put(self, key: str, value: Any = undefined) -> None:
        if value is undefined:
            raise DurableObjectTypeError("put() called with undefined value.")
        self._db.kv_write([_entry(key, value, self._limits, True)])

    def delete(self, key: str) -> bool:
        return self._db.kv_delete_many([_key(key, self._limits, True)]) > 0

    def list(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> SyncListIterator:
        """An iterator of ``(key, value)`` pairs, same range options as the async ``list``.

        As in workerd, only one ``list()`` iterator lives at a time: starting a new one
        invalidates the previous one, whose next step raises ``DurableObjectError``.
        """
        bounds = _list_range(options, kwargs)
        if bounds is None:
            return SyncListIterator(self, [])  # an empty range: nothing to invalidate
        if self._current is not None:
            self._current._canceled = True
        self._current = SyncListIterator(self, self._db.kv_scan(*bounds))
        return self._current


LIST_INVALIDATED = (
    "kv.list() iterator was invalidated because a new call to kv.list() was started. Only one "
    "kv.list() iterator can exist at a time."
)


class SyncListIterator:
    """The iterator ``ctx.storage.kv.list()`` returns: ``(key, value)`` pairs in key order."""

    __slots__ = ("_canceled", "_owner", "_rows")

    def __init__(self, owner: SyncKV, rows: list[tuple[str, bytes]]) -> None:
        self._owner = owner
        self._rows = iter(rows)
        self._canceled = False

    def __iter__(self) -> SyncListIterator:
        return self

    def __next__(self) -> tuple[str, Any]:
        if self._canceled:
            raise DurableObjectError(LIST_INVALIDATED)
        for key, data in self._rows:
            return key, codec.decode(data)
        if self._owner._current is self:
            self._owner._current = None  # finished: a new list() invalidates nothing
        raise StopIteration



def object_database(storage: DurableObjectStorage) -> ObjectDatabase | None:
    """The SQLite file of a SQLite-backed object's storage (``None`` for KV-backed ones).

    A function rather than a property: ``ctx.storage`` shows exactly workerd's API."""
    return storage._db


def close_storage(storage: DurableObjectStorage) -> None:
    """Release what ``storage`` holds open (the object's SQLite file handle)."""
    storage._backend.close()
