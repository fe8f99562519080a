"""A local D1 database binding (``env.DB``) on SQLite, as Python Workers see D1.

One SQLite file per ``d1_databases`` entry, at ``StatePaths.d1_db(id)``
(``<state>/d1/<database_id or database_name>.sqlite3``), so data persists across restarts.

The API is the one workerd exposes (``src/cloudflare/internal/d1-api.ts``) as Python code
sees it through Pyodide:

- ``env.DB.prepare(sql)`` -> :class:`D1PreparedStatement`; ``.bind(*values)`` returns a new
  statement (D1 statements are immutable);
- ``await stmt.all()`` / ``await stmt.run()`` -> :class:`D1Result` with ``.results`` (rows),
  ``.success`` and ``.meta`` (``changes``, ``last_row_id``, ``rows_read``, ...);
- ``await stmt.first()`` -> the first row or None; ``first("col")`` -> that column's value,
  ``D1_COLUMN_NOTFOUND: Column not found (col)`` when the row has no such column;
- ``await stmt.raw()`` -> rows as lists; ``raw(columnNames=True)`` puts the names first;
- ``await env.DB.batch([stmt, ...])`` -> a result per statement, all or nothing (one
  transaction, rolled back on the first error);
- ``await env.DB.exec(sql)`` -> ``{count, duration}`` for several ``;``-separated statements.

Rows and results are JavaScript objects in Pyodide; here they are :class:`JsObject` (a
``dict`` reachable by attribute, JSON-serialisable as is) and :class:`JsArray` (a ``list``),
both with ``to_py()`` returning plain Python values, so ``results.results[0].quote``,
``results.results[0]["quote"]`` and ``results.to_py()`` all work as on Cloudflare.

Errors are :class:`JsException` with D1's texts: ``D1_ERROR: <SQLite message>: SQLITE_ERROR``
(and ``SQLITE_CONSTRAINT`` ...), ``D1_TYPE_ERROR: Type '<t>' not supported for value
'<v>'`` for a value D1 cannot bind, ``D1_EXEC_ERROR: Error in line <n>: <sql>: <message>``.

Every SQLite call runs on the database's own worker thread, never on the event loop, so a file
locked by another process (``edgekv d1 execute``, an editor) never stalls requests.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from edgekv.runtime.ffi import JsException

__all__ = [
    "D1Database",
    "D1PreparedStatement",
    "D1Result",
    "JsArray",
    "JsObject",
]

# How long a statement waits for a lock held by another process (on the worker thread).
_BUSY_TIMEOUT_SECONDS = 5.0


class JsObject(dict[str, Any]):
    """A JavaScript object as Python Worker code sees it: attribute and item access."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> dict[str, Any]:
        """A plain ``dict`` (nested objects and arrays converted too)."""
        return {k: _to_py(v) for k, v in self.items()}


class JsArray(list[Any]):
    """A JavaScript array: a ``list`` with ``to_py()``."""

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> list[Any]:
        """A plain ``list``."""
        return [_to_py(v) for v in self]


def _to_py(value: Any) -> Any:
    return value.to_py() if isinstance(value, (JsObject, JsArray)) else value


class D1Result(JsObject):
    """``{success, meta, results}`` of ``all()``/``run()``/``batch()``."""


def _d1_error(exc: sqlite3.Error) -> JsException:
    code = getattr(exc, "sqlite_errorname", None) or "SQLITE_ERROR"
    if code.startswith("SQLITE_CONSTRAINT"):
        code = "SQLITE_CONSTRAINT"
    return JsException(f"D1_ERROR: {exc}: {code}")


def _check_value(value: Any) -> Any:
    """D1 binds null, numbers, strings, booleans (as 0/1) and bytes; anything else is refused."""
    if value is None or isinstance(value, (str, int, float, bytes)):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    kind = "object" if isinstance(value, (dict, list, tuple)) else type(value).__name__
    raise JsException(f"D1_TYPE_ERROR: Type '{kind}' not supported for value '{value}'")


class D1PreparedStatement:
    """A statement with its bound values; see the module docstring."""

    __slots__ = ("_db", "_params", "_sql")

    def __init__(self, db: D1Database, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._db = db
        self._sql = sql
        self._params = params

    def bind(self, *values: Any) -> D1PreparedStatement:
        """A new statement with ``values`` bound to ``?`` / ``?NNN`` in order."""
        return D1PreparedStatement(self._db, self._sql, tuple(_check_value(v) for v in values))

    async def all(self) -> D1Result:
        """Run the statement; every row as an object."""
        return (await self._db._run_many([(self._sql, self._params)], atomic=False))[0]

    async def run(self) -> D1Result:
        """Run the statement (the same result as ``all()``, as in workerd today)."""
        return await self.all()

    async def first(self, column: str | None = None) -> Any:
        """The first row (None without rows), or its ``column``."""
        result = await self.all()
        if not result.results:
            return None
        row = result.results[0]
        if column is None:
            return row
        if column not in row:
            raise JsException(f"D1_COLUMN_NOTFOUND: Column not found ({column})")
        return row[column]

    async def raw(self, columnNames: bool = False, **options: Any) -> JsArray:
        """Rows as arrays; with ``columnNames`` (also ``{"columnNames": True}``) names first."""
        names = bool(options.get("column_names", columnNames))
        columns, rows = await self._db._call(self._db._raw_sync, self._sql, self._params)
        out = JsArray(JsArray(r) for r in rows)
        if names:
            out.insert(0, JsArray(columns))
        return out

    def __repr__(self) -> str:
        return f"D1PreparedStatement({self._sql!r})"


class D1Database:
    """``env.<binding>`` of a ``d1_databases`` entry, over one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgekv-d1")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    # -- the Worker-facing API --------------------------------------------------------------

    def prepare(self, query: str) -> D1PreparedStatement:
        """A statement for ``query`` (nothing runs until ``all``/``run``/``first``/``raw``)."""
        return D1PreparedStatement(self, query)

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> JsArray:
        """Run ``statements`` in one transaction; results in order, or nothing applied."""
        work = [(s._sql, s._params) for s in statements]
        return JsArray(await self._run_many(work, atomic=True))

    async def exec(self, query: str) -> JsObject:
        """Run ``;``/newline-separated statements without parameters: ``{count, duration}``."""
        return await self._call(self._exec_sync, query)

    async def dump(self) -> bytes:
        """The database file's bytes (D1's deprecated ``dump()``)."""
        return await self._call(lambda: self.path.read_bytes() if self.path.exists() else b"")

    def close(self) -> None:
        """Close the connection and stop the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True

        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(_close)
        self._executor.shutdown(wait=True)

    def __repr__(self) -> str:
        return f"D1Database({str(self.path)!r})"

    # -- the worker thread ------------------------------------------------------------------

    async def _call(self, fn: Any, *args: Any) -> Any:
        if self._closed:
            raise RuntimeError("the D1 database is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run_many(self, work: list[tuple[str, tuple[Any, ...]]], *, atomic: bool
                        ) -> list[D1Result]:
        return await self._call(self._run_many_sync, work, atomic)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit (isolation_level=None): each statement commits unless in a batch.
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS,
                                   isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
            self._conn = conn
        return self._conn

    def _execute(self, conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> D1Result:
        started = time.perf_counter()
        size_before = conn.total_changes
        try:
            cursor = conn.execute(sql, params)
            columns = [c[0] for c in cursor.description or ()]
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise _d1_error(exc) from None
        changes = conn.total_changes - size_before
        results = JsArray(JsObject(zip(columns, row, strict=True)) for row in rows)
        meta = JsObject(
            served_by="edgekv.d1",
            served_by_region="local",
            served_by_primary=True,
            duration=round((time.perf_counter() - started) * 1000, 3),
            changes=changes,
            last_row_id=cursor.lastrowid or 0,
            changed_db=changes > 0,
            size_after=self._size(conn),
            rows_read=len(rows),
            rows_written=changes,
        )
        return D1Result(success=True, meta=meta, results=results)

    @staticmethod
    def _size(conn: sqlite3.Connection) -> int:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)

    def _run_many_sync(self, work: list[tuple[str, tuple[Any, ...]]], atomic: bool
                       ) -> list[D1Result]:
        conn = self._connection()
        if not atomic:
            return [self._execute(conn, sql, params) for sql, params in work]
        conn.execute("BEGIN IMMEDIATE")
        try:
            results = [self._execute(conn, sql, params) for sql, params in work]
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return results

    def _raw_sync(self, sql: str, params: tuple[Any, ...]) -> tuple[list[str], list[tuple]]:
        conn = self._connection()
        try:
            cursor = conn.execute(sql, params)
            return [c[0] for c in cursor.description or ()], cursor.fetchall()
        except sqlite3.Error as exc:
            raise _d1_error(exc) from None

    def _exec_sync(self, query: str) -> JsObject:
        conn = self._connection()
        started = time.perf_counter()
        count = 0
        for line_no, statement in enumerate(_split_statements(query), start=1):
            try:
                conn.execute(statement)
            except sqlite3.Error as exc:
                raise JsException(
                    f"D1_EXEC_ERROR: Error in line {line_no}: {statement}: {exc}"
                ) from None
            count += 1
        return JsObject(count=count, duration=round((time.perf_counter() - started) * 1000, 3))


def _split_statements(query: str) -> Iterable[str]:
    """Complete SQL statements of ``query`` (``sqlite3.complete_statement`` decides where one
    ends, so ``;`` inside strings and triggers does not split)."""
    buffer = ""
    for line in query.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip().strip(";").strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()
