"""The SQLite file of one SQLite-backed object: the SQL API's tables and the hidden ``_cf_KV``.

Contract:
- One file per object (``<state>/do/<namespace>/<id>.sqlite3``), opened lazily on first use and
  closed when the object is evicted or reset, so an idle object holds no file handle.
- The binding is APSW with its bundled SQLite (current, like workerd's), never the system one:
  the sandbox needs the authorizer with every argument, per-connection limits, extended result
  codes and statement error offsets.
- WAL, ``synchronous=NORMAL``. Writes are coalesced as workerd coalesces them: the first
  statement of a turn of the event loop opens an *implicit transaction*, committed at the end
  of that turn (``loop.call_soon``) or earlier by ``flush()`` (the output gate: an event's
  result is handed back only after its writes are committed). ``transactionSync`` /
  ``transaction`` are savepoints inside it; deferred foreign keys are checked at the commit.
  ``discard()`` (``ctx.abort()``) drops writes not yet committed. Foreign keys are enforced
  (workerd's default); ``PRAGMA foreign_keys`` first commits, since SQLite ignores it inside a
  transaction.
- The sandbox is workerd's (``sandbox.py``): user SQL runs under its authorizer and limits, so an
  object can reach neither another file (no ``ATTACH``), nor process-wide SQLite state (no
  ``PRAGMA hard_heap_limit``), nor the reserved ``_cf_`` tables (case-insensitive).
- The key-value data lives in ``_cf_KV`` (workerd's name), created on the first KV write, so a
  fresh object's database is one page (4096 bytes). Files written by earlier edgekv versions
  keep it under ``__cf_kv``; they are renamed when opened.
- The connection never waits for a lock (busy timeout 0), because a wait inline would stall
  every request of the server. The host calls ``wait_unlocked`` before each event instead:
  when another process holds the file's write lock, that object's event waits (sleeping,
  the loop free) for at most ``LOCK_WAIT_SECONDS``; other objects go on answering. The
  implicit transaction is ``BEGIN IMMEDIATE``: it takes the write lock when it starts, so a
  busy file is reported before anything ran and the storage call can wait and retry.
- A failed commit (a deferred foreign key violated when the outermost ``transactionSync``
  ends) or a critical error (disk full, I/O) rolls the whole transaction back and *breaks* the
  database: every later operation raises the same error until the object is reset, so no write
  can be acknowledged and then lost.
- Driver errors are translated into ``DurableObjectError`` with workerd's text
  (``"<message>[ at offset N]: SQLITE_<CODE>[ (extended: SQLITE_<EXT>)]"``).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

import apsw

from edgekv.durable_objects import sandbox
from edgekv.durable_objects.errors import DurableObjectError, DurableObjectReset
from edgekv.durable_objects.pitr import History, restore_file

__all__ = [
    "CONSTRAINTS_VIOLATED",
    "KV_TABLE",
    "LOCK_WAIT_SECONDS",
    "ObjectDatabase",
    "is_busy",
    "translate",
]

LOCK_WAIT_SECONDS = 5.0  # as long as SQLite's default busy timeout, the wait it replaces

KV_TABLE = "_cf_KV"
_OLD_KV_TABLE = "__cf_kv"
CONSTRAINTS_VIOLATED = (
    "Durable Object was reset and rolled back to its last known good state because the "
    "application left the database in a state where constraints were violated: "
)
# Primary codes after which workerd treats the database as broken (a critical error).
_CRITICAL = frozenset({"SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_NOMEM"})
# End-of-turn commits run in an empty context: a pending one must not keep the event's context
# (and through it the object) alive.
_EMPTY_CONTEXT = contextvars.Context()
_MAX_IN = 100  # bound parameters per internal statement (SQLITE_LIMIT_VARIABLE_NUMBER)
# Pragmas SQLite ignores inside a transaction: run them between implicit transactions.
_OUTSIDE_TRANSACTION = re.compile(r"^\s*PRAGMA\s+foreign_keys\s*=", re.IGNORECASE)


def _code_names(exc: apsw.Error) -> tuple[str, str | None]:
    primary = int(getattr(exc, "result", 1) or 1)
    extended = int(getattr(exc, "extendedresult", primary) or primary)
    name = apsw.mapping_result_codes.get(primary, f"SQLITE_UNKNOWN_ERROR_CODE({primary})")
    ext = apsw.mapping_extended_result_codes.get(extended) if extended != primary else None
    return str(name), None if ext is None else str(ext)


def error_text(exc: apsw.Error) -> str:
    """workerd's ``dbErrorMessage`` for a driver error."""
    message = str(exc.args[0]) if exc.args else str(exc)
    offset = getattr(exc, "error_offset", -1)
    if isinstance(offset, int) and offset >= 0:
        message += f" at offset {offset}"
    name, ext = _code_names(exc)
    message += f": {name}"
    if ext is not None:
        message += f" (extended: {ext})"
    return message


def translate(exc: apsw.Error) -> DurableObjectError:
    """The workerd-style ``DurableObjectError`` for a driver error."""
    return DurableObjectError(error_text(exc))


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` (a driver error, or one translated from it) means "locked by another"."""
    cause = exc if isinstance(exc, apsw.Error) else exc.__cause__
    code = getattr(cause, "result", None)
    return isinstance(code, int) and code & 0xFF in (apsw.SQLITE_BUSY, apsw.SQLITE_LOCKED)


class ObjectDatabase:
    """The lazily opened SQLite database of one object."""

    __slots__ = (
        "_conn", "_depth", "_implicit", "_kv_ready", "_schema", "_session", "_turn", "broken",
        "history", "path", "sandbox",
    )

    def __init__(self, path: str, history: History | None = None) -> None:
        self.path = path
        self.history = history  # point-in-time recovery (None: disabled)
        self._session: apsw.Session | None = None
        self._schema = -1
        self._turn: asyncio.Handle | None = None  # the scheduled end-of-turn commit
        self._conn: apsw.Connection | None = None
        self._depth = 0
        self._implicit = False  # an implicit (end-of-turn) transaction is open
        self._kv_ready = False
        self.sandbox = sandbox.Sandbox()
        # The error that broke this database (failed commit, critical error), if any.
        self.broken: DurableObjectError | None = None

    # -- connection ------------------------------------------------------------------------

    @property
    def conn(self) -> apsw.Connection:
        """The open connection (opened, configured and migrated on first use)."""
        self.require_not_broken()
        if self._conn is None:
            if self.path != ":memory:":
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
            restored = False
            if self.history is not None:
                target = self.history.take_pending_restore()
                if target is not None:  # onNextSessionRestoreBookmark(): before anything reads
                    restore_file(self.path, self.history.materialize(target))
                    restored = True
            try:
                conn = apsw.Connection(self.path)
            except apsw.Error as exc:
                raise translate(exc) from exc
            try:
                conn.set_busy_timeout(0)  # never wait inline: see wait_unlocked
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                sandbox.apply_limits(conn)
                tables = {
                    row[0]
                    for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
                if _OLD_KV_TABLE in tables and KV_TABLE not in tables:
                    conn.execute(f"ALTER TABLE {_OLD_KV_TABLE} RENAME TO {KV_TABLE}")
                    tables.add(KV_TABLE)
                self._kv_ready = KV_TABLE in tables
            except apsw.Error as exc:
                conn.close()
                raise translate(exc) from exc
            self._conn = conn
            if self.history is not None:
                if restored or self.history.empty:
                    self.history.record_snapshot(conn.serialize("main") or b"")
                self._start_session()
        return self._conn

    # -- history (point-in-time recovery) ------------------------------------------------------

    def _start_session(self) -> None:
        """Track the rows the next transactions change (all tables, rowid tables included)."""
        conn = self._conn
        if self.history is None or conn is None:
            return
        if self._session is not None:
            self._session.close()
        session = apsw.Session(conn, "main")
        session.config(apsw.SQLITE_SESSION_OBJCONFIG_ROWID, 1)
        session.attach()
        self._session = session
        self._schema = _schema_version(conn)

    def _record_history(self) -> None:
        """After a commit: append its changeset, or a snapshot if the schema changed."""
        conn, session, history = self._conn, self._session, self.history
        if conn is None or session is None or history is None:
            return
        schema = _schema_version(conn)
        if schema == self._schema and session.is_empty:
            return
        change: bytes | None = None
        if schema == self._schema:
            try:
                change = session.changeset()
            except apsw.Error:
                change = None  # cannot describe it as rows: keep the whole state instead
            if change == b"":
                return
        if change is None:
            history.record_snapshot(conn.serialize("main") or b"")
        else:
            history.record_changeset(change)
        self._start_session()

    async def wait_unlocked(self, limit_seconds: float = LOCK_WAIT_SECONDS) -> None:
        """Return once this file's write lock could be taken, or after ``limit_seconds``.

        Sleeps between attempts, so the event loop stays free. After the limit the event
        runs anyway and its first write reports ``database is locked: SQLITE_BUSY``. Any
        other error is left for the event's own statements to report.
        """
        if self._depth or self._implicit or self.broken is not None:
            return  # this connection already holds the lock (or will report its error)
        deadline = time.monotonic() + limit_seconds
        delay = 0.001
        while True:
            try:
                conn = self.conn
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return
            except (apsw.Error, DurableObjectError) as exc:
                if not is_busy(exc) or time.monotonic() >= deadline:
                    return
            await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 0.05)

    def require_not_broken(self) -> None:
        """Raise the error that broke this database, if one did."""
        if self.broken is not None:
            raise self.broken

    def close(self) -> None:
        """Commit what is pending and close the connection (idempotent); use reopens it."""
        if self._conn is not None:
            if self.broken is None and self._depth == 0:
                try:
                    self.flush()
                except DurableObjectError:
                    pass  # broken: already rolled back
            else:
                self.discard()
            if self._session is not None:
                self._session.close()
                self._session = None
            self._conn.close()
            self._conn = None
            self._depth = 0
            self._implicit = False
        if self.history is not None:
            self.history.close()

    # -- implicit transactions (workerd's write coalescing) ----------------------------------

    def _begin_implicit(self) -> None:
        """Open the implicit transaction of this turn, unless one is open."""
        conn = self.conn
        if self._implicit or conn.in_transaction:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a synchronous caller): plain autocommit
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock now: a busy file fails here, early
        except apsw.Error as exc:
            raise self.fail(exc) from exc
        self._implicit = True
        self._cancel_turn()
        self._turn = loop.call_soon(self._end_of_turn, context=_EMPTY_CONTEXT)

    def _end_of_turn(self) -> None:
        self._turn = None
        if self._depth > 0 or not self._implicit:
            return  # an explicit transaction is open: its outermost end schedules us again
        try:
            self.flush()
        except DurableObjectError:
            pass  # the database is broken; the output gate reports it

    def _schedule_end_of_turn(self) -> None:
        if self._implicit and self._depth == 0 and self._turn is None:
            try:
                loop = asyncio.get_running_loop()
                self._turn = loop.call_soon(self._end_of_turn, context=_EMPTY_CONTEXT)
            except RuntimeError:
                self._end_of_turn()

    def flush(self) -> None:
        """Commit the implicit transaction now. Raises (and breaks) if the commit fails."""
        self.require_not_broken()
        conn = self._conn
        if conn is None or self._depth > 0:
            return
        self._cancel_turn()
        if self._implicit:
            try:
                conn.execute("COMMIT")
            except apsw.Error as exc:
                self._implicit = False
                error = _commit_error(exc)
                self._break(error)
                raise error from exc
            self._implicit = False
        self._record_history()

    def _cancel_turn(self) -> None:
        # A cancelled handle drops its callback at once: an object evicted before the loop
        # turns again is not kept alive by its (now pointless) end-of-turn commit.
        if self._turn is not None:
            self._turn.cancel()
            self._turn = None

    def discard(self) -> None:
        """Roll back everything not yet committed (``ctx.abort()``, a reset)."""
        self._cancel_turn()
        conn = self._conn
        if conn is not None and conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except apsw.Error:  # SQLite already rolled it back
                pass
        self._implicit = False
        self._depth = 0
        if conn is not None:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (KV_TABLE,)
            ).fetchone()
            self._kv_ready = row is not None
            self._start_session()  # forget what the rolled-back writes touched

    def wipe(self) -> None:
        """Delete the database file and its WAL: all SQL tables and KV data, atomically."""
        self.require_not_broken()
        self.discard()  # what this turn wrote is deleted anyway
        self.close()
        self._kv_ready = False
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(self.path + suffix)
            except FileNotFoundError:
                pass
        if self.history is not None:
            self.history.record_snapshot(b"")  # deleteAll() is a point like any other

    def size_bytes(self) -> int:
        """``sql.databaseSize`` as workerd counts it: (pages - free pages) * page size."""
        row: Any = self._run(
            "SELECT (SELECT * FROM pragma_page_count) - (SELECT * FROM pragma_freelist_count),"
            " (SELECT * FROM pragma_page_size)"
        ).fetchone()
        pages, page_size = int(row[0]), int(row[1])
        return max(pages, 1) * page_size  # an empty file still has its header page

    def set_max_page_count(self, count: int) -> None:
        """Cap the file size (tests provoke ``SQLITE_FULL`` with it, as workerd's do)."""
        self._run(f"PRAGMA max_page_count = {int(count)}")

    # -- user SQL --------------------------------------------------------------------------

    def execute_user(self, statement: str, params: Sequence[Any] = ()) -> tuple[apsw.Cursor, Any]:
        """Prepare and start one user statement under the sandbox.

        Returns the cursor and its column description (read before the first step).
        """
        conn = self.conn
        sandbox.check_statement_text(statement)
        if _OUTSIDE_TRANSACTION.match(statement) and self._depth == 0:
            self.flush()
        else:
            self._begin_implicit()
        cursor = conn.cursor()
        description: list[Any] = []

        def trace(cur: apsw.Cursor, _sql: str, _bindings: Any) -> bool:
            description.append(cur.description)
            return True

        cursor.exec_trace = trace
        self.sandbox.reset()
        conn.authorizer = self.sandbox.authorize
        try:
            cursor.execute(statement, tuple(params))
        except apsw.BindingsError:
            raise  # the caller words it (wrong count, or parameters not on the last statement)
        except apsw.Error as exc:
            raise self.sandbox.failure(exc) or self.fail(exc) from exc
        finally:
            conn.authorizer = None
        return cursor, description[-1] if description else ()

    def fail(self, exc: apsw.Error) -> DurableObjectError:
        """Translate ``exc``; a critical error rolls back and breaks the database."""
        error = translate(exc)
        name, _ = _code_names(exc)
        if name in _CRITICAL:
            self._break(error)
        return error

    def _break(self, error: DurableObjectError) -> None:
        if self.broken is None:
            self.broken = error
        conn = self._conn
        if conn is not None and conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except apsw.Error:  # SQLite already rolled it back
                pass
        self._depth = 0
        self._implicit = False
        self._kv_ready = False  # re-read from the file when the object is reset

    # -- savepoints (transaction / transactionSync) ------------------------------------------

    def savepoint(self) -> str:
        """Open a nested savepoint and return its name."""
        self._begin_implicit()
        name = f"_cf_savepoint_{self._depth}"
        self._run(f"SAVEPOINT {name}")
        self._depth += 1
        return name

    def release(self, name: str) -> None:
        """Commit the savepoint ``name``.

        Inside the implicit transaction this never commits (the end of the turn does). Without
        one (no event loop) the outermost release commits: if that fails (a deferred foreign key
        is violated) the transaction is rolled back and the database broken, as a failed
        implicit commit would.
        """
        conn = self.conn
        try:
            conn.execute(f"RELEASE {name}")
        except apsw.Error as exc:
            error = _commit_error(exc)
            self._break(error)
            raise error from exc
        self._depth -= 1
        self._schedule_end_of_turn()

    def rollback_to(self, name: str) -> None:
        """Undo everything since the savepoint ``name`` and close it."""
        conn = self._conn
        if self.broken is not None or conn is None or not conn.in_transaction:
            return  # SQLite (or a critical error) already rolled everything back
        self._depth -= 1
        self._run(f"ROLLBACK TO {name}")
        self._run(f"RELEASE {name}")
        self._kv_ready = self._kv_ready and self._has_kv_table()  # its creation may be undone
        self._schedule_end_of_turn()

    def _has_kv_table(self) -> bool:
        sql = "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?"
        return self._run(sql, (KV_TABLE,)).fetchone() is not None

    @property
    def in_transaction(self) -> bool:
        """``True`` while a ``transaction``/``transactionSync`` savepoint is open."""
        return self._depth > 0

    def _run(self, sql: str, params: Sequence[Any] = ()) -> apsw.Cursor:
        try:
            return self.conn.execute(sql, tuple(params))
        except apsw.Error as exc:
            raise self.fail(exc) from exc

    # -- the KV table ----------------------------------------------------------------------

    def _ensure_kv(self) -> None:
        if not self._kv_ready:
            self._run(
                f"CREATE TABLE IF NOT EXISTS {KV_TABLE} "
                "(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"
            )
            self._kv_ready = True

    def _kv_exists(self) -> bool:
        self.conn  # noqa: B018 - opening reads whether the table exists
        return self._kv_ready

    def kv_get(self, key: str) -> bytes | None:
        if not self._kv_exists():
            return None
        row = self._run(f"SELECT value FROM {KV_TABLE} WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def kv_get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        unique = list(dict.fromkeys(keys))
        if not unique or not self._kv_exists():
            return {}
        found: dict[str, bytes] = {}
        for i in range(0, len(unique), _MAX_IN):
            chunk = unique[i : i + _MAX_IN]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, value FROM {KV_TABLE} WHERE key IN ({marks})"
            found.update((key, bytes(value)) for key, value in self._run(sql, chunk))
        return found

    def kv_write(self, puts: Iterable[tuple[str, bytes]], deletes: Iterable[str] = ()) -> None:
        """Apply ``deletes`` then ``puts`` in one atomic step."""
        puts, deletes = list(puts), list(deletes)
        self._begin_implicit()
        self._ensure_kv()
        name = self.savepoint()
        try:
            conn = self.conn
            conn.executemany(f"DELETE FROM {KV_TABLE} WHERE key = ?", [(k,) for k in deletes])
            conn.executemany(
                f"INSERT OR REPLACE INTO {KV_TABLE} (key, value) VALUES (?, ?)", puts
            )
        except apsw.Error as exc:
            error = self.fail(exc)
            self.rollback_to(name)
            raise error from exc
        except BaseException:
            self.rollback_to(name)
            raise
        self.release(name)

    def kv_delete_many(self, keys: Sequence[str]) -> int:
        unique = list(dict.fromkeys(keys))
        if not unique or not self._kv_exists():
            return 0
        self._begin_implicit()
        before = self.conn.total_changes()
        for i in range(0, len(unique), _MAX_IN):
            chunk = unique[i : i + _MAX_IN]
            marks = ",".join("?" * len(chunk))
            self._run(f"DELETE FROM {KV_TABLE} WHERE key IN ({marks})", chunk)
        return int(self.conn.total_changes() - before)

    def kv_scan(
        self, start: str, end: str | None, reverse: bool, limit: int | None
    ) -> list[tuple[str, bytes]]:
        if not self._kv_exists():
            return []
        sql = f"SELECT key, value FROM {KV_TABLE} WHERE key >= ?"
        params: list[Any] = [start]
        if end is not None:
            sql += " AND key < ?"
            params.append(end)
        sql += f" ORDER BY key {'DESC' if reverse else 'ASC'}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [(key, bytes(value)) for key, value in self._run(sql, params)]


def _schema_version(conn: apsw.Connection) -> int:
    row: Any = conn.execute("PRAGMA schema_version").fetchone()
    return int(row[0])


def _commit_error(exc: apsw.Error) -> DurableObjectError:
    """The error of a failed commit: workerd's reset text for a violated constraint."""
    name, _ = _code_names(exc)
    if name == "SQLITE_CONSTRAINT":
        message = str(exc.args[0]) if exc.args else str(exc)
        return ConstraintReset(f"{CONSTRAINTS_VIOLATED}{message}: {name}")
    return translate(exc)


class ConstraintReset(DurableObjectReset):
    """A commit failed on a constraint: the object was reset and rolled back (workerd's text)."""
