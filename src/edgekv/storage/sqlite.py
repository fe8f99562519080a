"""``sqlite:///PATH``: the embedded default backend.

Concurrency contract:
- WAL journal with ``synchronous=NORMAL``: a write that returned survives the process
  being killed (it is in the WAL file; only an OS crash could lose the last commits).
- Small operations run inline on the event loop through the *loop connection*, whose busy
  timeout is 0: a point read costs microseconds, less than a hop to a thread would.
- When the loop connection finds the database locked (another process, e.g. ``edgekv kv`` while a
  server runs, holds the write lock) or the work is large, it is handed to a worker thread
  with its own *waiting connection* that waits for the lock. So the event loop never blocks on a lock,
  and "database is locked" never reaches a caller unless the lock is held for minutes.
- Multi-statement writes use ``BEGIN IMMEDIATE`` (take the write lock first, never upgrade).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from edgekv.clock import Clock
from edgekv.errors import NamespaceNotFound, NamespaceTitleExists, StorageBusy, StorageError
from edgekv.storage.base import LOCAL_ACCOUNT_ID, NamespaceInfo, Record, Store, prefix_upper_bound
from edgekv.storage.faults import storage_error
from edgekv.storage.schema import INLINE_VALUE_BYTES, PAGE_SIZE_BYTES, migrate, repage

__all__ = ["VALUE_SQL", "SqliteStore"]

T = TypeVar("T")
_make_record = functools.partial(tuple.__new__, Record)

# How long the thread path keeps retrying a locked database before StorageBusy. Writers
# hold the lock only while writing (bulk loads parse and validate first), so a wait this
# long means another process is stuck; the caller gets a clear error instead of a hang.
_LOCK_WAIT_SECONDS = 10.0
_INLINE_MAX_BYTES = 1 << 20  # values larger than this are written from a thread
_INLINE_MAX_BATCH = 64  # batches with more records than this are written from a thread
# Scans of at most this many rows run inline: a KV list page asks for 1000 keys + 1 look-ahead
# (about 1 ms on the loop, measured by bench/kv_ops.py); larger scans go to a thread.
_INLINE_MAX_SCAN_ROWS = 1001


# The value of an entry row: inline, or in ``blobs`` (schema.py, version 3). coalesce stops at
# the first non-NULL argument, so an inline value costs no second search.
VALUE_SQL = _VALUE = "coalesce(value, (SELECT b.value FROM blobs b WHERE b.id = entries.vid))"
_GET = f"SELECT {_VALUE}, expiration, metadata FROM entries WHERE space = ? AND key = ?"
_UPSERT_INLINE = (
    "INSERT INTO entries (space, key, value, vid, expiration, metadata) VALUES (?, ?, ?, NULL, ?, ?) "
    "ON CONFLICT (space, key) DO UPDATE SET value = excluded.value, vid = NULL, "
    "expiration = excluded.expiration, metadata = excluded.metadata"
)
_UPSERT_BLOB = (
    "INSERT INTO entries (space, key, value, vid, expiration, metadata) VALUES (?, ?, NULL, ?, ?, ?) "
    "ON CONFLICT (space, key) DO UPDATE SET value = NULL, vid = excluded.vid, "
    "expiration = excluded.expiration, metadata = excluded.metadata"
)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc)
    return "locked" in text or "busy" in text


class SqliteStore(Store):
    """A store in one SQLite file (or ``:memory:``)."""

    def __init__(
        self, path: str | Path, clock: Clock | None = None, *,
        lock_wait_seconds: float = _LOCK_WAIT_SECONDS,
    ) -> None:
        super().__init__(clock)
        self.path = str(path)
        self.lock_wait_seconds = lock_wait_seconds
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Two connections, because SQLite's busy timeout is per connection and the event loop
        # must never wait on a lock:
        # - _loop_conn (busy timeout 0) runs small work inline on the event loop; a locked
        #   database makes it fail at once instead of blocking every other request;
        # - _waiting_conn runs on a worker thread (one at a time, under _waiting_lock) the work
        #   _loop_conn gave up on or that is too large for the loop, and waits for the lock:
        #   SQLite's own busy handler waits at most 0.5 s per attempt and _run_waiting retries
        #   up to lock_wait_seconds in all, so a wait is bounded however long another process
        #   holds on. It also opens the file first, to set WAL and migrate the schema.
        self._waiting_conn = self._connect(timeout=min(0.5, lock_wait_seconds))
        try:
            self._prepare(self._waiting_conn)
        except (sqlite3.Error, RuntimeError) as exc:  # RuntimeError: a newer schema version
            self._waiting_conn.close()
            raise storage_error(f"cannot open SQLite database {self.path!r}: {exc}", self.path, exc) from exc
        # An in-memory database exists once per connection: use a single one.
        if self.path == ":memory:":
            self._loop_conn = self._waiting_conn
        else:
            self._loop_conn = self._connect(timeout=0.0)
        self._waiting_lock = threading.Lock()
        self._space_ids: dict[str, int] = {}
        self._closed = False

    @staticmethod
    def _prepare(conn: sqlite3.Connection) -> None:
        """Switch to WAL and migrate, retrying while another process does the same.

        Switching the journal mode needs an exclusive lock that SQLite may refuse at once,
        without calling the busy handler (deadlock avoidance), when several processes open a
        fresh file together: so "database is locked" is retried here rather than raised.
        """
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        delay = 0.005
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    # page_size takes effect only on a new file (before its first write)
                    conn.execute(f"PRAGMA page_size={PAGE_SIZE_BYTES}")
                    conn.execute("PRAGMA journal_mode=WAL")
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                migrate(conn)
                if 0 < version < 3:  # a store made before the blob layout: larger pages too
                    repage(conn)
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _connect(self, timeout: float) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise storage_error(f"cannot open SQLite database {self.path!r}: {exc}", self.path, exc) from exc
        try:  # a file that is not a database fails here, not at connect()
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-16000")  # 16 MB page cache per connection
        except sqlite3.Error as exc:
            conn.close()
            raise storage_error(f"cannot open SQLite database {self.path!r}: {exc}", self.path, exc) from exc
        return conn

    # -- running work ----------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any, inline: bool = True) -> T:
        """Run ``fn(conn, *args)`` inline if possible, else on a thread that waits for locks."""
        if self._closed:
            raise StorageError("the store is closed")
        if inline and self._loop_conn is not self._waiting_conn:
            try:
                return fn(self._loop_conn, *args)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise storage_error(str(exc), self.path, exc) from exc
            except sqlite3.Error as exc:
                raise storage_error(str(exc), self.path, exc) from exc
        return await asyncio.to_thread(self._run_waiting, fn, *args)

    def _run_waiting(self, fn: Callable[..., T], *args: Any) -> T:
        deadline = time.monotonic() + self.lock_wait_seconds
        delay = 0.005
        with self._waiting_lock:
            while True:
                try:
                    return fn(self._waiting_conn, *args)
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise storage_error(str(exc), self.path, exc) from exc
                    if time.monotonic() > deadline:
                        busy = StorageBusy(
                            f"{self.path}: still locked by another writer after "
                            f"{self.lock_wait_seconds:g} s"
                        )
                        busy.path = self.path  # type: ignore[attr-defined]
                        raise busy from exc
                except sqlite3.Error as exc:
                    raise storage_error(str(exc), self.path, exc) from exc
                time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
                delay = min(delay * 2, 0.1)

    def _space_id(self, conn: sqlite3.Connection, space: str, create: bool) -> int | None:
        sid = self._space_ids.get(space)
        if sid is not None:
            return sid
        row = conn.execute("SELECT id FROM spaces WHERE name = ?", (space,)).fetchone()
        if row is None:
            if not create:
                return None
            conn.execute("INSERT OR IGNORE INTO spaces (name) VALUES (?)", (space,))
            row = conn.execute("SELECT id FROM spaces WHERE name = ?", (space,)).fetchone()
        self._space_ids[space] = row[0]
        return int(row[0])

    # -- entries -----------------------------------------------------------------------------

    def _get(self, conn: sqlite3.Connection, space: str, key: str) -> Record | None:
        sid = self._space_id(conn, space, create=False)
        if sid is None:
            return None
        row = conn.execute(_GET, (sid, key)).fetchone()
        if row is None or (row[1] is not None and row[1] <= self.clock.now()):
            return None
        return _make_record((key, *row))

    async def get(self, space: str, key: str) -> Record | None:
        # The point read of every env.KV.get: tried inline here (what _run does first) to
        # spare a coroutine per call; a locked database still goes through _run's thread.
        if not self._closed and self._loop_conn is not self._waiting_conn:
            try:
                return self._get(self._loop_conn, space, key)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise storage_error(str(exc), self.path, exc) from exc
            except sqlite3.Error as exc:
                raise storage_error(str(exc), self.path, exc) from exc
        return await self._run(self._get, space, key, inline=False)

    def _get_many(self, conn: sqlite3.Connection, space: str, keys: Sequence[str]) -> dict[str, Record]:
        sid = self._space_id(conn, space, create=False)
        if sid is None or not keys:
            return {}
        unique = list(dict.fromkeys(keys))
        marks = ",".join("?" * len(unique))
        now = self.clock.now()
        rows = conn.execute(
            f"SELECT key, {_VALUE}, expiration, metadata FROM entries "
            f"WHERE space = ? AND key IN ({marks})",
            (sid, *unique),
        ).fetchall()
        return {
            key: Record(key, value, exp, meta)
            for key, value, exp, meta in rows
            if exp is None or exp > now
        }

    async def get_many(self, space: str, keys: Sequence[str]) -> dict[str, Record]:
        return await self._run(self._get_many, space, keys)

    def _put(
        self, conn: sqlite3.Connection, space: str, key: str, value: bytes,
        expiration: int | None, metadata: str | None,
    ) -> None:
        sid = self._space_ids.get(space)
        if sid is None or len(value) > INLINE_VALUE_BYTES:
            # A new space (its row and the record commit together) or a blob (its row and
            # the entry commit together): one transaction, so a failed put (a full disk, a
            # damaged file) leaves nothing behind.
            self._write_batch(conn, space, [Record(key, value, expiration, metadata)], [])
            return
        conn.execute(_UPSERT_INLINE, (sid, key, value, expiration, metadata))

    async def put(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> None:
        await self._run(
            self._put, space, key, value, expiration, metadata,
            inline=len(value) <= _INLINE_MAX_BYTES,
        )

    def _delete(self, conn: sqlite3.Connection, space: str, key: str) -> bool:
        sid = self._space_id(conn, space, create=False)
        if sid is None:
            return False
        row = conn.execute(
            "DELETE FROM entries WHERE space = ? AND key = ? RETURNING expiration", (sid, key)
        ).fetchone()
        return row is not None and (row[0] is None or row[0] > self.clock.now())

    async def delete(self, space: str, key: str) -> bool:
        return await self._run(self._delete, space, key)

    def _write_batch(
        self, conn: sqlite3.Connection, space: str, puts: Iterable[Record], deletes: list[str]
    ) -> None:
        # BEGIN IMMEDIATE takes the write lock before ``puts`` is consumed, so a retry after a
        # busy error never replays a half-consumed iterator.
        conn.execute("BEGIN IMMEDIATE")
        try:
            sid = self._space_id(conn, space, create=True)
            if deletes:
                conn.executemany(
                    "DELETE FROM entries WHERE space = ? AND key = ?", ((sid, k) for k in deletes)
                )
            conn.executemany(_UPSERT_INLINE, self._inline_rows(conn, sid, puts))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite already rolled back after a full disk or I/O error
                conn.execute("ROLLBACK")
            self._space_ids.pop(space, None)  # the space row may have been rolled back
            raise

    @staticmethod
    def _inline_rows(
        conn: sqlite3.Connection, sid: int | None, puts: Iterable[Record]
    ) -> Iterable[tuple[Any, ...]]:
        """Rows for ``_UPSERT_INLINE``; a large value is written to ``blobs`` on the way
        (same transaction) and its entry upserted at once."""
        for r in puts:
            value = r.value or b""
            if len(value) <= INLINE_VALUE_BYTES:
                yield (sid, r.key, value, r.expiration, r.metadata)
                continue
            vid = conn.execute("INSERT INTO blobs (value) VALUES (?)", (value,)).lastrowid
            conn.execute(_UPSERT_BLOB, (sid, r.key, vid, r.expiration, r.metadata))

    async def write_batch(
        self, space: str, puts: Iterable[Record] = (), deletes: Iterable[str] = ()
    ) -> None:
        delete_list = list(deletes)
        if not isinstance(puts, (list, tuple)):
            # A lazy iterator (a bulk load): consume it in the worker thread, a row at a time,
            # so memory stays flat however many records it yields.
            await self._run(self._write_batch, space, puts, delete_list, inline=False)
            return
        size = sum(len(r.value or b"") for r in puts)
        small = len(puts) + len(delete_list) <= _INLINE_MAX_BATCH and size <= _INLINE_MAX_BYTES
        await self._run(self._write_batch, space, puts, delete_list, inline=small)

    def _select(
        self, conn: sqlite3.Connection, columns: str, space: str, prefix: str,
        start: str | None, start_after: str | None, end: str | None, reverse: bool,
        limit: int | None,
    ) -> list[Any]:
        """Rows of ``columns`` for live keys of ``space`` within the bounds, in key order."""
        sid = self._space_id(conn, space, create=False)
        if sid is None:
            return []
        where = ["space = ?", "(expiration IS NULL OR expiration > ?)"]
        params: list[Any] = [sid, self.clock.now()]
        if prefix:
            where.append("key >= ?")
            params.append(prefix)
            upper = prefix_upper_bound(prefix)
            if upper is not None:
                where.append("key < ?")
                params.append(upper)
        for op, bound in ((">=", start), (">", start_after), ("<", end)):
            if bound is not None:
                where.append(f"key {op} ?")
                params.append(bound)
        sql = (
            f"SELECT {columns} FROM entries WHERE {' AND '.join(where)} "
            f"ORDER BY key {'DESC' if reverse else 'ASC'}"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(limit, 0))  # SQLite reads a negative LIMIT as "no limit"
        return conn.execute(sql, params).fetchall()

    def _scan(
        self, conn: sqlite3.Connection, space: str, prefix: str, start: str | None,
        start_after: str | None, end: str | None, reverse: bool, limit: int | None, values: bool,
    ) -> list[Record]:
        columns = f"key, {_VALUE}, expiration, metadata" if values else "key, NULL, expiration, metadata"
        rows = self._select(conn, columns, space, prefix, start, start_after, end, reverse, limit)
        # tuple.__new__ through map builds each named tuple in C (bench/kv_ops.py, list page).
        return list(map(_make_record, rows))

    async def scan(
        self,
        space: str,
        *,
        prefix: str = "",
        start: str | None = None,
        start_after: str | None = None,
        end: str | None = None,
        reverse: bool = False,
        limit: int | None = None,
        values: bool = False,
    ) -> list[Record]:
        return await self._run(
            self._scan, space, prefix, start, start_after, end, reverse, limit, values,
            inline=limit is not None and limit <= _INLINE_MAX_SCAN_ROWS,
        )

    async def scan_keys(
        self, space: str, *, prefix: str = "", start_after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, int | None, str | None]]:
        return await self._run(
            self._select, "key, expiration, metadata", space, prefix, None, start_after, None,
            False, limit, inline=limit is not None and limit <= _INLINE_MAX_SCAN_ROWS,
        )

    def _count(self, conn: sqlite3.Connection, space: str, prefix: str) -> int:
        rows = self._select(conn, "COUNT(*)", space, prefix, None, None, None, False, None)
        return int(rows[0][0]) if rows else 0

    async def count(self, space: str, *, prefix: str = "") -> int:
        # One COUNT(*) over the (space, key) primary-key range, on a worker thread: it reads
        # every live row of the space (about 0.1 s per million keys), too long for the loop.
        return await self._run(self._count, space, prefix, inline=False)

    def _drop_space(self, conn: sqlite3.Connection, space: str) -> None:
        sid = self._space_id(conn, space, create=False)
        if sid is not None:
            conn.execute("DELETE FROM entries WHERE space = ?", (sid,))

    async def drop_space(self, space: str) -> None:
        await self._run(self._drop_space, space, inline=False)

    def _purge(self, conn: sqlite3.Connection) -> int:
        cur = conn.execute(
            "DELETE FROM entries WHERE expiration IS NOT NULL AND expiration <= ?",
            (self.clock.now(),),
        )
        return cur.rowcount

    async def purge_expired(self) -> int:
        return await self._run(self._purge, inline=False)

    # -- namespace registry ----------------------------------------------------------------

    def _create_ns(
        self, conn: sqlite3.Connection, namespace_id: str, title: str, account_id: str
    ) -> NamespaceInfo:
        try:
            conn.execute(
                "INSERT INTO kv_namespaces (id, account_id, title, created_at) VALUES (?, ?, ?, ?)",
                (namespace_id, account_id, title, self.clock.now()),
            )
        except sqlite3.IntegrityError as exc:
            if "title" in str(exc):
                raise NamespaceTitleExists(title) from exc
            raise StorageError(f"a KV namespace with id {namespace_id!r} already exists") from exc
        return NamespaceInfo(namespace_id, title, account_id)

    async def create_namespace(
        self, namespace_id: str, title: str, account_id: str = LOCAL_ACCOUNT_ID
    ) -> NamespaceInfo:
        return await self._run(self._create_ns, namespace_id, title, account_id)

    async def list_namespaces(self, account_id: str | None = None) -> list[NamespaceInfo]:
        def run(conn: sqlite3.Connection) -> list[NamespaceInfo]:
            if account_id is None:
                rows = conn.execute(
                    "SELECT id, title, account_id FROM kv_namespaces ORDER BY title, id"
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT id, title, account_id FROM kv_namespaces WHERE account_id = ?"
                    " ORDER BY title, id", (account_id,),
                ).fetchall()
            return [NamespaceInfo(*row) for row in rows]

        return await self._run(run)

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        def run(conn: sqlite3.Connection) -> NamespaceInfo | None:
            row = conn.execute(
                "SELECT id, title, account_id FROM kv_namespaces WHERE id = ?", (namespace_id,)
            ).fetchone()
            return NamespaceInfo(*row) if row else None

        return await self._run(run)

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        def run(conn: sqlite3.Connection) -> NamespaceInfo:
            try:
                row = conn.execute(
                    "UPDATE kv_namespaces SET title = ? WHERE id = ? RETURNING account_id",
                    (title, namespace_id),
                ).fetchone()
            except sqlite3.IntegrityError as exc:
                raise NamespaceTitleExists(title) from exc
            if row is None:
                raise NamespaceNotFound(namespace_id)
            return NamespaceInfo(namespace_id, title, row[0])

        return await self._run(run)

    async def delete_namespace(self, namespace_id: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute("DELETE FROM kv_namespaces WHERE id = ?", (namespace_id,))
                if cur.rowcount == 0:
                    raise NamespaceNotFound(namespace_id)
                sid = self._space_id(conn, namespace_id, create=False)
                if sid is not None:
                    conn.execute("DELETE FROM entries WHERE space = ?", (sid,))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite already rolled back after a full disk or I/O error
                    conn.execute("ROLLBACK")
                raise

        await self._run(run, inline=False)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._waiting_lock:
            if self._loop_conn is not self._waiting_conn:
                self._loop_conn.close()
            self._waiting_conn.close()
