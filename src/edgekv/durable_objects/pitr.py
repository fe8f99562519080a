"""Point-in-time recovery (PITR) of SQLite-backed objects: bookmarks, history, restore.

Contract:
- Every committed transaction of an object's database becomes a *point* in its history file
  (``<id>.pitr.sqlite3`` next to the object's file): a SQLite session *changeset* of the rows
  it changed (``_cf_KV`` included), or, when it changed the schema (or wiped the database with
  ``deleteAll``), a full *snapshot* of the database after it. The first point of a history is
  always a snapshot (the state when history began).
- A bookmark names a point: ``"%08x-%08x-%08x-" + 32 zeros``, the point's sequence number in
  the first two fields, so bookmarks compare lexically in time order (the shape Cloudflare
  returns). ``getCurrentBookmark()`` adds an empty *mark* point, so it always advances (as
  workerd's local bookmarks do, which D1's Sessions API relies on).
- State at point N = the newest snapshot at or before N, plus the changesets after it up to N.
- ``onNextSessionRestoreBookmark(b)`` stores a pending restore in the history file; the next
  time the object's database is opened (the object's next start, after a reset or a server
  restart), the file is replaced by the state at ``b`` before anything reads it. The restore is
  itself recorded as a snapshot point, so it can be undone with the bookmark it returned.
- History is bounded in age (``pitr_max_age_seconds``, 30 days) and in bytes
  (``pitr_max_history_bytes``): older points are dropped, after the oldest kept point is turned
  into a snapshot. A single snapshot larger than the byte bound is kept alone.
- A crash between a data commit and its history append loses that one point, never data.
- Alarms are not part of the history (they live in the runtime's alarm table).
"""

from __future__ import annotations

import os
import re
from typing import Any

import apsw

from edgekv.clock import Clock
from edgekv.durable_objects.errors import DurableObjectError, DurableObjectRangeError

__all__ = ["History", "format_bookmark", "parse_bookmark"]

_BOOKMARK = re.compile(r"^([0-9a-f]{8})-([0-9a-f]{8})-([0-9a-f]{8})-([0-9a-f]{32})$")
INVALID_BOOKMARK = "Invalid bookmark"
BOOKMARK_TOO_OLD = "Bookmark is older than the retained history of this Durable Object."
TIME_TOO_OLD = "Requested time is older than the retained history of this Durable Object."
SNAPSHOT, CHANGESET, MARK = "snapshot", "changeset", "mark"


def format_bookmark(seq: int) -> str:
    """The bookmark of point ``seq`` (lexically ordered like ``seq``)."""
    return f"{seq >> 32:08x}-{seq & 0xFFFFFFFF:08x}-{0:08x}-{'0' * 32}"


def parse_bookmark(text: Any) -> int:
    """The point a bookmark names. Raises ``DurableObjectRangeError`` if malformed."""
    match = _BOOKMARK.match(text) if isinstance(text, str) else None
    if match is None:
        raise DurableObjectRangeError(INVALID_BOOKMARK)
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def _one(conn: apsw.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first row of ``sql`` (``None`` if none), untyped (APSW rows are tuples)."""
    return conn.execute(sql, params).fetchone()


def _memory_copy(data: bytes) -> apsw.Connection:
    """An in-memory database holding the serialized ``data`` (empty bytes: empty database)."""
    mem = apsw.Connection(":memory:")
    if data:
        image = bytearray(data)
        image[18:20] = b"\x01\x01"  # a WAL-mode image would open read-only in memory
        mem.deserialize("main", bytes(image))
    return mem


class History:
    """The PITR history of one object (its own small SQLite file, opened lazily)."""

    __slots__ = (
        "_bytes", "_conn", "_last", "_oldest_ms", "clock", "max_age_seconds", "max_bytes", "path",
    )

    def __init__(self, path: str, clock: Clock, max_age_seconds: float, max_bytes: int) -> None:
        self.path = path
        self.clock = clock
        self.max_age_seconds = max_age_seconds
        self.max_bytes = max_bytes
        self._conn: apsw.Connection | None = None
        self._bytes = 0
        self._oldest_ms: int | None = None
        self._last = (0, 0)  # newest (seq, time_ms)

    @property
    def conn(self) -> apsw.Connection:
        if self._conn is None:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            conn = apsw.Connection(self.path)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS points (seq INTEGER PRIMARY KEY, time_ms INTEGER "
                "NOT NULL, kind TEXT NOT NULL, data BLOB);"
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)"
            )
            total, oldest, last_seq = _one(
                conn, "SELECT coalesce(sum(length(data)), 0), min(time_ms), max(seq) FROM points"
            )
            self._bytes, self._oldest_ms = int(total), oldest
            if last_seq is not None:
                last_ms = _one(conn, "SELECT time_ms FROM points WHERE seq = ?", (last_seq,))
                self._last = (int(last_seq), int(last_ms[0]))
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    # -- recording ---------------------------------------------------------------------------

    @property
    def empty(self) -> bool:
        return _one(self.conn, "SELECT 1 FROM points LIMIT 1") is None

    def _append(self, kind: str, data: bytes | None) -> int:
        conn = self.conn
        seq = self._last[0] + 1
        now = max(self._now_ms(), self._last[1])  # time never goes backwards within a history
        conn.execute("INSERT INTO points VALUES (?, ?, ?, ?)", (seq, now, kind, data))
        self._last = (seq, now)
        self._bytes += len(data or b"")
        if self._oldest_ms is None:
            self._oldest_ms = now
        self._maybe_prune()
        return seq

    def record_snapshot(self, data: bytes) -> int:
        """Append the full state after a transaction (schema changes, wipes, restores)."""
        return self._append(SNAPSHOT, data)

    def record_changeset(self, data: bytes) -> int:
        """Append the rows one transaction changed."""
        return self._append(CHANGESET, data)

    def mark(self) -> int:
        """Append an empty point (``getCurrentBookmark``): the state of the point before it."""
        return self._append(MARK, None)

    # -- queries -----------------------------------------------------------------------------

    def bounds(self) -> tuple[int, int]:
        """The oldest and newest point numbers."""
        row = _one(self.conn, "SELECT min(seq) FROM points")
        return int(row[0] or 0), self._last[0]

    def seq_for_time(self, millis: int) -> int:
        """The newest point committed at or before ``millis``. Raises if history is younger."""
        if millis < self._now_ms() - self.max_age_seconds * 1000:
            raise DurableObjectRangeError(TIME_TOO_OLD)
        row = _one(self.conn, "SELECT max(seq) FROM points WHERE time_ms <= ?", (millis,))
        if row[0] is None:
            raise DurableObjectRangeError(TIME_TOO_OLD)
        return int(row[0])

    def check(self, seq: int) -> None:
        """Raise unless point ``seq`` is in the retained history."""
        oldest, newest = self.bounds()
        if seq > newest:
            raise DurableObjectRangeError(INVALID_BOOKMARK)
        if seq < oldest:
            raise DurableObjectRangeError(BOOKMARK_TOO_OLD)

    def materialize(self, seq: int) -> apsw.Connection:
        """An in-memory database holding the state at point ``seq``."""
        conn = self.conn
        base = _one(
            conn,
            "SELECT seq, data FROM points WHERE kind = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
            (SNAPSHOT, seq),
        )
        if base is None:
            raise DurableObjectRangeError(BOOKMARK_TOO_OLD)
        mem = _memory_copy(bytes(base[1] or b""))
        for (data,) in conn.execute(
            "SELECT data FROM points WHERE kind = ? AND seq > ? AND seq <= ? ORDER BY seq",
            (CHANGESET, base[0], seq),
        ):
            apsw.Changeset.apply(bytes(data), mem)
        return mem

    # -- pending restores --------------------------------------------------------------------

    def set_pending_restore(self, seq: int) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('restore', ?)", (seq,))

    def take_pending_restore(self) -> int | None:
        """The point to restore at this start, if one was requested (and forget it)."""
        if not os.path.exists(self.path):
            return None
        row = _one(self.conn, "SELECT value FROM meta WHERE key = 'restore'")
        if row is None:
            return None
        self.conn.execute("DELETE FROM meta WHERE key = 'restore'")
        return int(row[0])

    # -- bounds ------------------------------------------------------------------------------

    def _maybe_prune(self) -> None:
        cutoff = self._now_ms() - int(self.max_age_seconds * 1000)
        too_old = self._oldest_ms is not None and self._oldest_ms < cutoff
        if self._bytes > self.max_bytes or too_old:
            self.prune()

    def prune(self) -> None:
        """Drop points beyond the age and byte bounds; the oldest kept becomes a snapshot."""
        conn = self.conn
        rows: list[Any] = list(
            conn.execute("SELECT seq, time_ms, kind, coalesce(length(data), 0) FROM points ORDER BY seq")
        )
        if len(rows) < 2:
            return
        cutoff = self._now_ms() - int(self.max_age_seconds * 1000)
        keep = 0
        for i, (_seq, time_ms, _kind, _size) in enumerate(rows):
            if time_ms <= cutoff:
                keep = i  # the state during [time_ms, next) still answers times after cutoff
        # Trim to three quarters of the bound, so that trimming (which may rebuild a snapshot)
        # happens once per quarter of the bound written, not on every commit.
        target = self.max_bytes * 3 // 4 if self._bytes > self.max_bytes else self.max_bytes
        total = 0
        for i in range(len(rows) - 1, keep - 1, -1):
            total += rows[i][3]
            if total > target and i < len(rows) - 1:
                keep = i + 1
                break
        pending = _one(conn, "SELECT value FROM meta WHERE key = 'restore'")
        if pending is not None:  # never drop the point a restore waits for
            keep = min(keep, max((i for i, row in enumerate(rows) if row[0] <= pending[0]), default=0))
        if keep == 0:
            return
        seq, _time, kind, _size = rows[keep]
        if kind != SNAPSHOT:
            image = self.materialize(seq).serialize("main") or b""
            conn.execute(
                "UPDATE points SET kind = ?, data = ? WHERE seq = ?", (SNAPSHOT, image, seq)
            )
        conn.execute("DELETE FROM points WHERE seq < ?", (seq,))
        total_bytes, oldest = _one(conn, "SELECT coalesce(sum(length(data)), 0), min(time_ms) FROM points")
        self._bytes, self._oldest_ms = int(total_bytes), oldest

    @property
    def size_bytes(self) -> int:
        """Bytes of history data kept (changesets and snapshots)."""
        self.conn  # noqa: B018 - opening loads the counters
        return self._bytes


def restore_file(path: str, state: apsw.Connection) -> None:
    """Replace the database file at ``path`` with the contents of ``state``."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
    dest = apsw.Connection(path)
    try:
        with dest.backup("main", state, "main") as backup:
            backup.step()
    except apsw.Error as exc:
        raise DurableObjectError(f"restoring the bookmark failed: {exc}") from exc
    finally:
        dest.close()
