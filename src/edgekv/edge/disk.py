"""The optional local SQLite tier of an edge cache, for values too large to keep in memory.

The file is a cache, not a store: it is emptied when opened (the in-memory index that knows
what it holds does not survive a restart), written without fsync, and every access runs on
one dedicated thread so that a large value never blocks the event loop (docs/architecture.md,
"SQLite discipline": large values belong off the loop). A single worker thread also keeps
operations in submission order, so a removal queued before a rewrite of the same key cannot
undo it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from edgekv.errors import StorageError

__all__ = ["DiskTier"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS edge_values (
    space TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (space, key)
) WITHOUT ROWID;
"""


class DiskTier:
    """Values by ``(space, key)`` in a local SQLite file. Methods are coroutines except
    ``discard`` (queued, fire and forget, for eviction inside synchronous code)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="edgekv-edge-disk")
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._executor.submit(self._open).result()

    def _open(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # a cache: losing it on a crash is fine
            conn.executescript(_SCHEMA)
            conn.execute("DELETE FROM edge_values")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the edge cache file {self.path!r}: {exc}") from exc
        self._conn = conn

    async def _run(self, fn, *args):  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    def _write(self, space: str, key: str, value: bytes) -> None:
        assert self._conn is not None
        self._conn.execute(
            "INSERT OR REPLACE INTO edge_values (space, key, value) VALUES (?, ?, ?)",
            (space, key, value),
        )

    def _read(self, space: str, key: str) -> bytes | None:
        assert self._conn is not None
        row = self._conn.execute(
            "SELECT value FROM edge_values WHERE space = ? AND key = ?", (space, key)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def _remove(self, space: str, key: str) -> None:
        if self._conn is not None:
            self._conn.execute("DELETE FROM edge_values WHERE space = ? AND key = ?", (space, key))

    def _clear(self) -> None:
        if self._conn is not None:
            self._conn.execute("DELETE FROM edge_values")

    async def write(self, space: str, key: str, value: bytes) -> None:
        """Store ``value`` (replacing any earlier one). Raises ``StorageError``."""
        try:
            await self._run(self._write, space, key, value)
        except sqlite3.Error as exc:
            raise StorageError(f"edge cache file write failed: {exc}") from exc

    async def read(self, space: str, key: str) -> bytes | None:
        """The stored value, or ``None`` (never written, or discarded since)."""
        try:
            return await self._run(self._read, space, key)  # type: ignore[no-any-return]
        except sqlite3.Error:
            return None  # a cache that cannot be read is a miss, not an error

    def discard(self, space: str, key: str) -> None:
        """Queue the removal of one value."""
        if not self._closed:
            self._executor.submit(self._remove, space, key)

    def clear(self) -> None:
        """Queue the removal of every value."""
        if not self._closed:
            self._executor.submit(self._clear)

    def close(self) -> None:
        """Close the file and stop the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(shut)
        self._executor.shutdown(wait=True)
