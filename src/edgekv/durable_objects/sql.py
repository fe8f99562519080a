"""``ctx.storage.sql``: the SQL API of SQLite-backed objects (docs/durable-objects.md,
"ctx.storage" and "The SQL sandbox").

``exec(query, *bindings)`` runs every ``;``-separated statement of ``query`` in order; the
bindings apply to the last statement, and the returned cursor covers only the last one.
Cursors are lazy (rows are stepped as they are read) and iterable; rows are ``SqlRow`` dicts
that also allow attribute access (``cursor.one().greeting``, as the Python Workers docs write).

``rowsRead`` counts rows returned so far (SQLite does not expose rows scanned through the
Python driver); ``rowsWritten`` counts rows changed by the statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apsw

from edgekv.durable_objects.database import ObjectDatabase
from edgekv.durable_objects.errors import DurableObjectError, DurableObjectTypeError

__all__ = ["SqlCursor", "SqlRow", "SqlStorage"]

NO_RESULTS = "Expected exactly one result from SQL query, but got no results."
MANY_RESULTS = "Expected exactly one result from SQL query, but got multiple results."
PARAMS_NOT_LAST = (
    "When executing multiple SQL statements in a single call, only the last statement can "
    "have parameters."
)
NO_STATEMENT = "SQL code did not contain a statement."
WRONG_BINDINGS = "Wrong number of parameter bindings for SQL query."
_BINDABLE = (int, float, str, bytes, type(None))


class SqlRow(dict[str, Any]):
    """One result row: a dict keyed by column name, also readable as attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_py(self) -> dict[str, Any]:
        """A plain dict (what Pyodide's ``JsProxy.to_py()`` gives)."""
        return dict(self)


def _binding(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, _BINDABLE):
        return value
    raise DurableObjectTypeError(
        f"Unsupported binding type {type(value).__name__}: use str, int, float, bytes or None"
    )


def split_statements(query: str) -> list[str]:
    """Split ``query`` after each ``;`` that ends a complete statement.

    Raises ``DurableObjectError`` ("SQL code did not contain a statement.") when the query, or
    any piece of it other than trailing whitespace, holds no statement (``""``, ``";"``, a
    trailing comment), as workerd does.
    """
    parts: list[str] = []
    begin = 0
    for index, char in enumerate(query):
        if char == ";" and apsw.complete(query[begin : index + 1]):
            parts.append(query[begin : index + 1])
            begin = index + 1
    if query[begin:].strip():
        parts.append(query[begin:])
    if not parts or not all(_has_code(p) for p in parts):
        raise DurableObjectError(NO_STATEMENT)
    return parts


def _has_code(text: str) -> bool:
    """``False`` for pieces made only of whitespace, ``;`` and comments."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace() or c == ";":
            i += 1
        elif text.startswith("--", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
        else:
            return True
    return False


class SqlCursor:
    """The result of ``exec``: iterable rows plus ``columnNames``, ``rowsRead``, ``rowsWritten``."""

    __slots__ = ("_columns", "_cursor", "_db", "_done", "_read", "_written")

    def __init__(self, db: ObjectDatabase, cursor: apsw.Cursor, description: Any, written: int) -> None:
        self._db = db
        self._cursor = cursor
        self._columns = [d[0] for d in description]
        self._read = 0
        self._written = written
        self._done = not self._columns

    @property
    def columnNames(self) -> list[str]:
        """Column names of the result (empty for statements returning no rows)."""
        return list(self._columns)

    @property
    def rowsRead(self) -> int:
        return self._read

    @property
    def rowsWritten(self) -> int:
        return self._written

    column_names, rows_read, rows_written = columnNames, rowsRead, rowsWritten

    def _next_raw(self) -> tuple[Any, ...] | None:
        if self._done:
            return None
        try:
            row = self._cursor.fetchone()
        except apsw.Error as exc:
            raise self._db.fail(exc) from exc
        if row is None:
            self._done = True
            return None
        self._read += 1
        return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)

    def _row(self, raw: tuple[Any, ...]) -> SqlRow:
        return SqlRow(zip(self._columns, raw))

    def __iter__(self) -> Iterator[SqlRow]:
        return self

    def __next__(self) -> SqlRow:
        raw = self._next_raw()
        if raw is None:
            raise StopIteration
        return self._row(raw)

    def next(self) -> dict[str, Any]:
        """JS iterator protocol: ``{"done": bool, "value": row | None}``."""
        raw = self._next_raw()
        if raw is None:
            return {"done": True, "value": None}
        return {"done": False, "value": self._row(raw)}

    def toArray(self) -> list[SqlRow]:
        """Every remaining row."""
        return list(self)

    to_array = toArray

    def one(self) -> SqlRow:
        """The only row. Raises ``DurableObjectError`` unless exactly one row remains."""
        first = self._next_raw()
        if first is None:
            raise DurableObjectError(NO_RESULTS)
        if self._next_raw() is not None:
            self._done = True
            raise DurableObjectError(MANY_RESULTS)
        return self._row(first)

    def raw(self) -> Iterator[list[Any]]:
        """The remaining rows as lists of column values."""
        while (row := self._next_raw()) is not None:
            yield list(row)


class SqlStorage:
    """``ctx.storage.sql`` of one SQLite-backed object."""

    __slots__ = ("_db",)

    def __init__(self, db: ObjectDatabase) -> None:
        self._db = db

    def exec(self, query: str, *bindings: Any) -> SqlCursor:
        """Run ``query``; bindings go to its last statement. Raises ``DurableObjectError``."""
        if not isinstance(query, str):
            raise DurableObjectTypeError("exec() requires a SQL string")
        params = [_binding(b) for b in bindings]
        db = self._db
        statements = split_statements(query)
        for statement in statements[:-1]:
            try:
                cursor, _ = db.execute_user(statement)
                cursor.fetchall()
            except apsw.BindingsError as exc:
                raise DurableObjectError(PARAMS_NOT_LAST) from exc
            except apsw.Error as exc:
                raise db.fail(exc) from exc
        before = db.conn.total_changes()
        try:
            cursor, description = db.execute_user(statements[-1], params)
        except apsw.BindingsError as exc:
            raise DurableObjectError(WRONG_BINDINGS) from exc
        return SqlCursor(db, cursor, description, int(db.conn.total_changes() - before))

    def setMaxPageCountForTest(self, count: int) -> None:
        """Cap the database at ``count`` pages (workerd's test hook, to provoke SQLITE_FULL)."""
        self._db.set_max_page_count(count)

    @property
    def databaseSize(self) -> int:
        """The database size in bytes."""
        return self._db.size_bytes()

    database_size = databaseSize
