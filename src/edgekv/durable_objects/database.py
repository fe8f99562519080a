"""The SQLite file of one SQLite-backed object: the SQL API's tables and the hidden ``__cf_kv``.

Contract:
- One file per object (``<state>/do/<namespace>/<id>.sqlite3``), opened lazily on first use and
  closed when the object is evicted or reset, so an idle object holds no file handle.
- WAL, ``synchronous=NORMAL``, autocommit: every statement outside ``transaction`` /
  ``transactionSync`` is durable when it returns (there is no write-back cache).
- The connection is used only from the event loop, inline: all access to one object is
  serialized by its event queue, and a local point statement costs microseconds.
- The connection never waits for a lock (busy timeout 0), because a wait inline would stall
  every request of the server. The host calls ``wait_unlocked`` before each event instead:
  when another process holds the file's write lock, that object's event waits (sleeping,
  the loop free) for at most ``LOCK_WAIT_SECONDS``; other objects go on answering.
- User SQL runs under an authorizer that forbids ``BEGIN``/``SAVEPOINT`` and any access to
  tables whose names start with ``_cf_`` or ``__cf_`` (the KV table shows in
  ``sqlite_master`` but cannot be read, as on Cloudflare).
- Driver errors are translated into ``DurableObjectError("<message>: SQLITE_<CODE>")``.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

from edgekv.durable_objects.errors import DurableObjectError

__all__ = ["LOCK_WAIT_SECONDS", "TRANSACTION_FORBIDDEN", "ObjectDatabase", "is_busy", "translate"]

LOCK_WAIT_SECONDS = 5.0  # as long as SQLite's default busy timeout, the wait it replaces

TRANSACTION_FORBIDDEN = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)
_KV_TABLE = "__cf_kv"
_TRANSACTION_ACTIONS = (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT)


def translate(exc: sqlite3.Error) -> DurableObjectError:
    """The workerd-style error for a driver error: ``"<message>: SQLITE_<CODE>"``."""
    code = getattr(exc, "sqlite_errorname", None) or "SQLITE_ERROR"
    return DurableObjectError(f"{exc}: {code}")


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` (a driver error, or one translated from it) means "locked by another"."""
    cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__
    code = getattr(cause, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _hidden(name: object) -> bool:
    return isinstance(name, str) and (name.startswith(("_cf_", "__cf_")))


class ObjectDatabase:
    """The lazily opened SQLite database of one object."""

    __slots__ = ("_conn", "_depth", "_saw_transaction", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._saw_transaction = False
        self._depth = 0

    # -- connection ------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection (opened, and the KV table created, on first use)."""
        if self._conn is None:
            if self.path != ":memory:":
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
            try:
                conn = sqlite3.connect(self.path, timeout=0.0, isolation_level=None,
                                       check_same_thread=False)
            except sqlite3.Error as exc:
                raise translate(exc) from exc
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {_KV_TABLE} "
                    "(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"
                )
            except sqlite3.Error as exc:
                conn.close()
                raise translate(exc) from exc
            self._conn = conn
        return self._conn

    async def wait_unlocked(self, limit_seconds: float = LOCK_WAIT_SECONDS) -> None:
        """Return once this file's write lock could be taken, or after ``limit_seconds``.

        Sleeps between attempts, so the event loop stays free. After the limit the event
        runs anyway and its first write reports ``database is locked: SQLITE_BUSY``. Any
        other error is left for the event's own statements to report.
        """
        if self._depth:  # inside transaction(): this connection already holds the lock
            return
        deadline = time.monotonic() + limit_seconds
        delay = 0.001
        while True:
            try:
                conn = self.conn
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return
            except (sqlite3.Error, DurableObjectError) as exc:
                if not is_busy(exc) or time.monotonic() >= deadline:
                    return
            await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 0.05)

    def close(self) -> None:
        """Close the connection (idempotent); the next use reopens it."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def wipe(self) -> None:
        """Delete the database file and its WAL: all SQL tables and KV data, atomically."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(self.path + suffix)
            except FileNotFoundError:
                pass

    def size_bytes(self) -> int:
        """The database size in bytes (``sql.databaseSize``)."""
        count = self.conn.execute("PRAGMA page_count").fetchone()[0]
        size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        return int(count) * int(size)

    # -- user SQL --------------------------------------------------------------------------

    def _authorize(self, action: int, arg1: Any, arg2: Any, _db: Any, _trigger: Any) -> int:
        if action in _TRANSACTION_ACTIONS:
            self._saw_transaction = True
            return sqlite3.SQLITE_DENY
        if _hidden(arg1) or _hidden(arg2):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def execute_user(self, statement: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Prepare and start one user statement under the authorizer."""
        conn = self.conn
        self._saw_transaction = False
        conn.set_authorizer(self._authorize)
        try:
            return conn.execute(statement, params)
        except sqlite3.Error as exc:
            if self._saw_transaction:
                raise DurableObjectError(TRANSACTION_FORBIDDEN) from exc
            raise translate(exc) from exc
        finally:
            conn.set_authorizer(None)

    # -- savepoints (transaction / transactionSync) ------------------------------------------

    def savepoint(self) -> str:
        """Open a nested savepoint and return its name."""
        name = f"_cf_savepoint_{self._depth}"
        self._depth += 1
        self._run(f"SAVEPOINT {name}")
        return name

    def release(self, name: str) -> None:
        """Commit the savepoint ``name``."""
        self._depth -= 1
        self._run(f"RELEASE {name}")

    def rollback_to(self, name: str) -> None:
        """Undo everything since the savepoint ``name`` and close it."""
        self._depth -= 1
        self._run(f"ROLLBACK TO {name}")
        self._run(f"RELEASE {name}")

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    # -- the KV table ----------------------------------------------------------------------

    def kv_get(self, key: str) -> bytes | None:
        row = self._run(f"SELECT value FROM {_KV_TABLE} WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def kv_get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        marks = ",".join("?" * len(unique))
        rows = self._run(f"SELECT key, value FROM {_KV_TABLE} WHERE key IN ({marks})", unique)
        return {key: bytes(value) for key, value in rows}

    def kv_write(self, puts: Iterable[tuple[str, bytes]], deletes: Iterable[str] = ()) -> None:
        """Apply ``deletes`` then ``puts`` in one atomic step."""
        conn = self.conn
        name = self.savepoint()
        try:
            conn.executemany(f"DELETE FROM {_KV_TABLE} WHERE key = ?", ((k,) for k in deletes))
            conn.executemany(
                f"INSERT OR REPLACE INTO {_KV_TABLE} (key, value) VALUES (?, ?)", puts
            )
        except sqlite3.Error as exc:
            self.rollback_to(name)
            raise translate(exc) from exc
        except BaseException:
            self.rollback_to(name)
            raise
        self.release(name)

    def kv_delete_many(self, keys: Sequence[str]) -> int:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return 0
        marks = ",".join("?" * len(unique))
        cur = self._run(f"DELETE FROM {_KV_TABLE} WHERE key IN ({marks})", unique)
        return max(cur.rowcount, 0)

    def kv_scan(
        self, start: str, end: str | None, reverse: bool, limit: int | None
    ) -> list[tuple[str, bytes]]:
        sql = f"SELECT key, value FROM {_KV_TABLE} WHERE key >= ?"
        params: list[Any] = [start]
        if end is not None:
            sql += " AND key < ?"
            params.append(end)
        sql += f" ORDER BY key {'DESC' if reverse else 'ASC'}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [(key, bytes(value)) for key, value in self._run(sql, params)]
