"""The invalidation transport: one ``LISTEN`` connection per location, backed by the outbox.

A ``ChangeListener`` hands every change written to the store after it started to
``on_changes`` exactly once (at most one duplicate after an error), whatever happens to its
connection, or calls ``on_reset`` when it cannot know (the outbox was trimmed past it), after
which the caller must drop every cached entry. It is transport only: what a change does to a
cache is the callback's business (edgekv's edge cache drops or refreshes entries older than
``Change.version``).

Why not "catch up from ``seq > last_seen``": sequence numbers are taken inside transactions
and become visible at commit, so they commit out of order; a transaction holding seq 5 can
commit after seq 6 was seen, and a reader resuming from 6 skips 5 for ever. Instead the
listener remembers the oldest transaction that was still running when it last read the
outbox (``floor``: the ``xmin`` of that read's snapshot). Every change it has not delivered
belongs to a transaction at or above ``floor`` (all older ones had finished, so their rows
were visible and were delivered), so a catch-up reads ``xid >= floor`` and skips the
sequence numbers it already delivered (``seen``). Notices are only the fast path: a catch-up
also runs every ``poll_interval`` seconds and after every reconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

from edgekv.errors import StorageError
from edgekv.storage.postgres.store import DRIVER_ERRORS, PostgresStore

__all__ = ["Change", "ChangeListener", "InvalidationTarget"]

_log = logging.getLogger("edgekv.storage.postgres.listener")


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change: ``op`` is ``"put"``, ``"delete"`` or ``"drop"`` (the whole space
    was emptied; ``key`` is ``None``). ``version`` orders writes of one key."""

    seq: int
    space: str
    key: str | None
    version: int
    op: str
    at: float | None = None  # when it was written (the writer's clock), if known


class InvalidationTarget(Protocol):
    """What ``ChangeListener.for_invalidator`` feeds: the transport-free invalidation API of
    an edge cache (``edgekv.edge.Invalidator``, docs/edge-cache.md)."""

    def apply_notice(
        self, space: str, key: str, version: int | None, *, committed_at: float | None = None
    ) -> object: ...

    def drop_space(self, space: str) -> object: ...

    def drop_all(self) -> object: ...


ChangesCallback = Callable[[list[Change]], Awaitable[None] | None]
ResetCallback = Callable[[], Awaitable[None] | None]

_LOST = object()  # queue marker: the connection is gone

#: What ends a connection attempt or a subscription: the loop reconnects after these.
_CONNECTION_ERRORS: tuple[type[Exception], ...] = (StorageError, *DRIVER_ERRORS)


async def _call(callback: Callable[..., Any], *args: Any) -> None:
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


class ChangeListener:
    """Deliver the store's changes to ``on_changes`` (and ``on_reset``) until stopped."""

    def __init__(
        self,
        store: PostgresStore,
        on_changes: ChangesCallback,
        on_reset: ResetCallback | None = None,
        *,
        poll_interval: float = 10.0,
        reconnect_delay: float = 0.2,
        max_reconnect_delay: float = 5.0,
    ) -> None:
        self.store = store
        self.on_changes = on_changes
        self.on_reset = on_reset
        self.poll_interval = poll_interval
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self._floor: int | None = None  # None: nothing read yet (start from "now")
        self._seen: set[int] = set()
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._connected = asyncio.Event()
        self._first_attempt: asyncio.Future[None] | None = None
        #: Counters for operators and tests.
        self.connections = 0
        self.resets = 0
        self.delivered = 0

    @classmethod
    def for_invalidator(
        cls, store: PostgresStore, invalidator: InvalidationTarget, **options: float
    ) -> ChangeListener:
        """A listener that applies every change to an edge cache's ``Invalidator``: a key's
        change drops (or refreshes) entries older than its version, a dropped space forgets
        the space, a reset forgets everything."""

        def on_changes(changes: list[Change]) -> None:
            for change in changes:
                if change.key is None:
                    invalidator.drop_space(change.space)
                else:
                    invalidator.apply_notice(
                        change.space, change.key, change.version, committed_at=change.at
                    )

        def on_reset() -> None:
            invalidator.drop_all()

        return cls(store, on_changes, on_reset, **options)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and subscribe. Raises ``StorageError`` if the first connection fails;
        later losses are retried in the background with capped backoff."""
        if self._task is not None:
            return
        self._first_attempt = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(), name="edgekv-change-listener")
        try:
            await self._first_attempt
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop listening and close the connection. Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_conn()
        # Forget notices and markers of the old connection; pending sync() calls are
        # answered when the listener starts again.
        pending = [i for i in self._drain() if isinstance(i, asyncio.Future)]
        for item in pending:
            self._queue.put_nowait(item)

    def _drain(self) -> list[object]:
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def server_pid(self) -> int | None:
        """The PostgreSQL backend serving the ``LISTEN`` (to cut it in tests)."""
        conn = self._conn
        return conn.get_server_pid() if conn is not None and not conn.is_closed() else None

    async def wait_connected(self, timeout: float) -> None:
        """Wait until subscribed (and caught up); raises ``TimeoutError`` after ``timeout``."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def sync(self) -> None:
        """Run a catch-up now (normally the background loop does it) and wait for it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(done)
        await done

    # -- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.reconnect_delay
        while True:
            try:
                await self._subscribe()
                delay = self.reconnect_delay
                await self._serve()
            except asyncio.CancelledError:
                raise
            except _CONNECTION_ERRORS as exc:
                if self._first_attempt is not None and not self._first_attempt.done():
                    error = exc if isinstance(exc, StorageError) else StorageError(
                        f"cannot listen for changes: {type(exc).__name__}: {exc}")
                    if error is not exc:
                        error.__cause__ = exc
                    self._first_attempt.set_exception(error)
                    return
                _log.warning("change listener lost its connection (%s); reconnecting", exc)
            except Exception:  # noqa: BLE001 - the loop must outlive any error: if it ended,
                # this location would stop invalidating its cache for good (logged, reconnects)
                _log.exception("change listener failed; reconnecting")
            finally:
                self._connected.clear()
            await self._close_conn()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_reconnect_delay)

    async def _subscribe(self) -> None:
        conn = await self.store.connect()
        self._conn = conn
        self.connections += 1
        # The marker names its connection: closing an old one must not end a newer one.
        conn.add_termination_listener(lambda closed: self._queue.put_nowait((_LOST, closed)))
        await conn.add_listener(self.store.channel, self._on_notify)
        # LISTEN is active before the catch-up reads the outbox: a commit after that read is
        # announced to us, one before it is in the read.
        await self._catch_up(conn)
        self._connected.set()
        if self._first_attempt is not None and not self._first_attempt.done():
            self._first_attempt.set_result(None)

    async def _serve(self) -> None:
        conn = self._conn
        assert conn is not None
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), self.poll_interval)
            except TimeoutError:
                item = None  # periodic catch-up; doubles as a keep-alive probe
            if isinstance(item, tuple):
                if item[1] is not conn:
                    continue  # an earlier connection's end, already handled
                item = _LOST
            if item is _LOST or conn.is_closed():
                if isinstance(item, asyncio.Future):
                    self._queue.put_nowait(item)  # answer it after reconnecting
                raise StorageError("the LISTEN connection was closed")
            if isinstance(item, str):
                await self._on_payload(conn, item)
            else:
                await self._catch_up(conn)
                if isinstance(item, asyncio.Future) and not item.done():
                    item.set_result(None)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._queue.put_nowait(payload)

    async def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), timeout=self.store.connect_timeout)
            except DRIVER_ERRORS:  # wait_for's TimeoutError among them (an OSError)
                conn.terminate()

    # -- delivering ---------------------------------------------------------------------------

    async def _on_payload(self, conn: asyncpg.Connection, payload: str) -> None:
        try:
            notice = json.loads(payload)
            raw = notice.get("c")
        except (ValueError, AttributeError):
            raw = None
            notice = None
        if notice is None or raw is None:
            # Too large for NOTIFY (or foreign): the rows are committed; read the outbox.
            await self._catch_up(conn)
            return
        if self._floor is not None and int(notice.get("x", 0)) < self._floor:
            # Its transaction had finished when the last catch-up took its snapshot, so that
            # catch-up (or an earlier one) already delivered it: do not deliver it twice.
            return
        version = int(notice["v"])
        at = notice.get("t")
        changes = [
            Change(int(seq), space, key, version, op, at)
            for seq, space, key, op in raw
            if int(seq) not in self._seen
        ]
        if self._floor is None or not changes:
            return
        await self._deliver(conn, changes)

    async def _deliver(self, conn: asyncpg.Connection, changes: list[Change]) -> None:
        if self.store.read_dsn:
            # Reads at this location must not return anything older than these changes:
            # replica reads wait for the primary's current WAL position (store.read_barrier).
            self.store.read_barrier(await self.store.primary_lsn(conn))
        self._seen.update(c.seq for c in changes)
        self.delivered += len(changes)
        try:
            await _call(self.on_changes, changes)
        except Exception:  # noqa: BLE001 - the caller's callback may fail in any way; the
            # changes stay delivered (at most once) and the listener goes on
            _log.exception("the change callback failed; entries expire by their TTL")

    async def _catch_up(self, conn: asyncpg.Connection) -> None:
        """Read the outbox above ``floor``, deliver what was not delivered, move ``floor``."""
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            xmin_text, trimmed_text = await conn.fetchrow(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, "
                "(SELECT value FROM state WHERE name = 'trimmed_xid')"
            )
            xmin, trimmed = int(xmin_text), int(trimmed_text)
            reset = self._floor is not None and trimmed > self._floor
            if self._floor is None or reset:
                # Start from now: what is committed is already in the store; what is still
                # running (xid >= xmin) is announced or found by the next catch-up.
                seqs = await conn.fetch(
                    "SELECT seq FROM changes WHERE xid >= $1::text::xid8", xmin_text
                )
                rows = []
                self._seen = {int(r[0]) for r in seqs}
            else:
                rows = await conn.fetch(
                    "SELECT seq, xid::text, space, key, version, op, at FROM changes "
                    "WHERE xid >= $1::text::xid8 ORDER BY seq", str(self._floor),
                )
        if reset:
            self.resets += 1
            _log.warning("the outbox was trimmed past this location; dropping its cache")
            if self.on_reset is not None:
                try:
                    await _call(self.on_reset)
                except Exception:  # noqa: BLE001 - the caller's callback may fail in any way
                    _log.exception("the reset callback failed")
        if rows:
            fresh = [
                Change(int(seq), space, None if key is None else bytes(key).decode("utf-8"),
                       int(version), op, at)
                for seq, _xid, space, key, version, op, at in rows
                if int(seq) not in self._seen
            ]
            if fresh:
                await self._deliver(conn, fresh)
            # Rows below the new floor are final and will not be read again: forget them.
            # Seen rows not in this read (announced after its snapshot) stay remembered.
            finished = {int(seq) for seq, xid, *_ in rows if int(xid) < xmin}
            self._seen -= finished
        self._floor = xmin
