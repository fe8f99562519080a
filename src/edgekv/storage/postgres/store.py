"""``postgresql://``: the shared store of a many-location deployment (asyncpg).

Contract beyond ``Store`` (docs/postgresql.md):
- Keys are ``bytea`` (their UTF-8 bytes), so the primary-key B-tree orders them by bytes,
  which is Python's ``str`` order; prefix and cursor listings are range scans of it.
- Every write takes a ``version`` from one sequence; an upsert only replaces a row with a
  lower or equal version, so concurrent writers anywhere resolve by last writer (by version)
  wins. A delete leaves a tombstone (``value IS NULL``) carrying its version.
- Every write adds rows to the ``changes`` outbox in the same transaction and announces them
  with ``NOTIFY`` on ``store.channel`` (sent by PostgreSQL at commit; see ``listener.py``).
- With the server down, every call fails within the connect timeout with ``StorageError``;
  driver exceptions never escape (they are chained as ``__cause__``).
- With ``read_url`` (a streaming replica), reads go to the replica, except that after
  ``read_barrier(lsn)`` a read waits (up to ``replica_wait``) for the replica to replay that
  position and otherwise reads the primary: a read never returns data older than a change
  the location was told about, or wrote itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from edgekv.clock import Clock
from edgekv.errors import NamespaceNotFound, NamespaceTitleExists, StorageError
from edgekv.storage.base import LOCAL_ACCOUNT_ID, NamespaceInfo, Record, Store, prefix_upper_bound
from edgekv.storage.postgres.schema import migrate

__all__ = ["DRIVER_ERRORS", "PostgresStore", "parse_url"]

_log = logging.getLogger("edgekv.storage.postgres")

#: Everything asyncpg (or the socket below it) raises; translated to ``StorageError``.
DRIVER_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,  # refused/reset connections; TimeoutError is an OSError too
)

DEFAULT_SCHEMA = "edgekv"
_NOTIFY_MAX = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more
_CHUNK_ROWS = 1000  # a batch is written in chunks of this many records ...
_CHUNK_BYTES = 32 << 20  # ... or this many value bytes, inside one transaction
_TOMBSTONE_GRACE = 3600.0  # seconds a tombstone is kept for edges and replicas to observe
_OUTBOX_RETENTION = 3600.0  # seconds the outbox keeps changes for listeners to catch up


def parse_url(url: str) -> tuple[str, str]:
    """Split an edgekv ``postgresql://`` URL into (asyncpg DSN, schema name).

    ``?schema=NAME`` is edgekv's own parameter (default ``edgekv``); every other part of the
    URL is passed to asyncpg unchanged.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise StorageError(f"not a PostgreSQL URL: {url!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = DEFAULT_SCHEMA
    rest = []
    for name, value in query:
        if name == "schema":
            schema = value
        else:
            rest.append((name, value))
    if not schema or len(schema.encode()) > 55:
        raise StorageError(f"invalid schema name {schema!r} in the storage URL")
    return urlunsplit(parts._replace(scheme="postgresql", query=urlencode(rest))), schema


def _lsn_sql(function: str) -> str:
    return f"SELECT ({function}() - '0/0'::pg_lsn)::bigint"


_PUT_SQL = """
WITH t AS (SELECT nextval('versions') AS v, pg_current_xact_id() AS x),
e AS (
    INSERT INTO entries AS o (space, key, value, expiration, metadata, version, updated_at)
    SELECT $1, $2, $3, $4, $5, t.v, $6 FROM t
    ON CONFLICT (space, key) DO UPDATE SET
        value = EXCLUDED.value, expiration = EXCLUDED.expiration, metadata = EXCLUDED.metadata,
        version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
    WHERE o.version <= EXCLUDED.version
    RETURNING o.version
),
c AS (
    INSERT INTO changes (xid, space, key, version, op, at)
    SELECT t.x, $7, $2, e.version, 'put', $6 FROM e, t
    RETURNING seq, xid, version
),
n AS (
    SELECT pg_notify($8, CASE WHEN octet_length(p.full) < $10 THEN p.full ELSE p.short END)
    FROM c, LATERAL (SELECT
        json_build_object('x', c.xid::text, 'v', c.version, 't', $6::float8,
                          'c', json_build_array(json_build_array(c.seq, $7::text, $9::json,
                                                                 'put')))::text AS full,
        json_build_object('x', c.xid::text, 'v', c.version)::text AS short) p
)
SELECT (SELECT v FROM t), (SELECT count(*) FROM n)
"""

_DELETE_SQL = """
WITH t AS (SELECT nextval('versions') AS v, pg_current_xact_id() AS x),
old AS (
    SELECT value IS NOT NULL AND (expiration IS NULL OR expiration > $4) AS live
    FROM entries WHERE space = $1 AND key = $2
),
e AS (
    INSERT INTO entries AS o (space, key, value, expiration, metadata, version, updated_at)
    SELECT $1, $2, NULL, NULL, NULL, t.v, $3 FROM t
    ON CONFLICT (space, key) DO UPDATE SET
        value = NULL, expiration = NULL, metadata = NULL,
        version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
    WHERE o.version <= EXCLUDED.version
    RETURNING o.version
),
c AS (
    INSERT INTO changes (xid, space, key, version, op, at)
    SELECT t.x, $5, $2, e.version, 'delete', $3 FROM e, t
    RETURNING seq, xid, version
),
n AS (
    SELECT pg_notify($6, CASE WHEN octet_length(p.full) < $8 THEN p.full ELSE p.short END)
    FROM c, LATERAL (SELECT
        json_build_object('x', c.xid::text, 'v', c.version, 't', $3::float8,
                          'c', json_build_array(json_build_array(c.seq, $5::text, $7::json,
                                                                 'delete')))::text AS full,
        json_build_object('x', c.xid::text, 'v', c.version)::text AS short) p
)
SELECT coalesce((SELECT live FROM old), false), (SELECT v FROM t), (SELECT count(*) FROM n)
"""

_UPSERT_MANY_SQL = """
INSERT INTO entries AS o (space, key, value, expiration, metadata, version, updated_at)
SELECT $1, k, v, e, m, $6, $7 FROM unnest($2::bytea[], $3::bytea[], $4::bigint[], $5::text[])
    AS r(k, v, e, m)
ON CONFLICT (space, key) DO UPDATE SET
    value = EXCLUDED.value, expiration = EXCLUDED.expiration, metadata = EXCLUDED.metadata,
    version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
WHERE o.version <= EXCLUDED.version
RETURNING key
"""

_TOMBSTONE_MANY_SQL = """
INSERT INTO entries AS o (space, key, value, expiration, metadata, version, updated_at)
SELECT $1, k, NULL, NULL, NULL, $3, $4 FROM unnest($2::bytea[]) AS r(k)
ON CONFLICT (space, key) DO UPDATE SET
    value = NULL, expiration = NULL, metadata = NULL,
    version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
WHERE o.version <= EXCLUDED.version
RETURNING key
"""


class _Versioned(NamedTuple):
    """Shaped like ``edgekv.edge.Versioned`` (a higher layer, so not imported here)."""

    record: Record | None
    version: int


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset step. asyncpg's default resets every session on release (UNLISTEN,
    RESET ALL, ...: one more round trip per call, measured at about half of a point read by
    bench/postgres.py). Pooled connections here never change session state (no SET, no
    LISTEN, only transaction-scoped advisory locks), and asyncpg still rolls back a
    transaction left open, so there is nothing to reset."""


def _encode(key: str) -> bytes:
    return key.encode("utf-8")


def _now_int(now: float) -> int:
    # A record is live while expiration > now; for integer expirations that is > floor(now).
    return math.floor(now)


class PostgresStore(Store):
    """A store in one PostgreSQL schema, shared by every location of a deployment.

    Connects lazily (``open_store`` is synchronous): the first call creates the pool and
    migrates the schema. ``connect_timeout`` bounds connecting and waiting for a pooled
    connection; ``command_timeout`` bounds each statement.
    """

    def __init__(
        self,
        url: str,
        clock: Clock | None = None,
        *,
        read_url: str | None = None,
        connect_timeout: float = 5.0,
        command_timeout: float = 60.0,
        replica_wait: float = 1.0,
        pool_size: int = 10,
        tombstone_grace: float = _TOMBSTONE_GRACE,
        outbox_retention: float = _OUTBOX_RETENTION,
    ) -> None:
        super().__init__(clock)
        self.dsn, self.schema = parse_url(url)
        self.read_dsn = parse_url(read_url)[0] if read_url else None
        self.channel = f"edgekv_{self.schema}"  # NOTIFY channel; one per deployment (schema)
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.replica_wait = replica_wait
        self.tombstone_grace = tombstone_grace
        self.outbox_retention = outbox_retention
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._read_pool: asyncpg.Pool | None = None
        self._init_lock = asyncio.Lock()
        self._space_ids: dict[str, int] = {}
        self._closed = False
        self._read_floor = 0  # the replica must have replayed this WAL position (bytes)
        self._replica_seen = 0  # the highest replay position the replica reported

    # -- connections -------------------------------------------------------------------------

    @property
    def server_settings(self) -> dict[str, str]:
        """Session settings of every connection (the schema to work in)."""
        return {"search_path": self.schema, "application_name": "edgekv"}

    async def connect(self, *, read: bool = False) -> asyncpg.Connection:
        """A new connection of the store's own (not pooled; the caller closes it), once
        the schema is migrated."""
        await self._ready_translated()
        try:
            return await asyncpg.connect(
                self.read_dsn if read and self.read_dsn else self.dsn,
                timeout=self.connect_timeout,
                command_timeout=self.command_timeout,
                server_settings=self.server_settings,
            )
        except DRIVER_ERRORS as exc:
            raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc

    def _make_pool(self, dsn: str) -> asyncpg.Pool:
        return asyncpg.create_pool(
            dsn,
            min_size=0,  # connect on demand: a store that is never used holds no connection
            max_size=self._pool_size,
            timeout=self.connect_timeout,
            command_timeout=self.command_timeout,
            server_settings=self.server_settings,
            max_inactive_connection_lifetime=60.0,
            reset=_keep_session,
        )

    async def _ready(self) -> asyncpg.Pool:
        if self._closed:
            raise StorageError("the store is closed")
        if self._pool is not None:
            return self._pool
        async with self._init_lock:
            if self._pool is None:
                pool = await self._make_pool(self.dsn)
                try:
                    async with pool.acquire(timeout=self.connect_timeout) as conn:
                        await migrate(conn, self.schema)
                except BaseException:
                    pool.terminate()
                    raise
                if self.read_dsn:
                    self._read_pool = await self._make_pool(self.read_dsn)
                    # The replica must have replayed the schema before it serves reads.
                    self.read_barrier(await pool.fetchval(_lsn_sql("pg_current_wal_insert_lsn")))
                self._pool = pool
        return self._pool

    @contextlib.asynccontextmanager
    async def primary_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection to the primary; driver errors become ``StorageError``."""
        try:
            pool = await self._ready()
            async with pool.acquire(timeout=self.connect_timeout) as conn:
                yield conn
        except DRIVER_ERRORS as exc:
            raise StorageError(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc
        except RuntimeError as exc:  # a newer schema version
            raise StorageError(str(exc)) from exc

    @contextlib.asynccontextmanager
    async def _reader(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection to read from: the replica when it has replayed ``read_barrier``,
        else (or when the replica cannot be reached) the primary."""
        await self._ready_translated()
        replica = self._read_pool
        if replica is not None and await self._replica_caught_up():
            try:
                conn = await replica.acquire(timeout=self.connect_timeout)
            except DRIVER_ERRORS:
                _log.warning("the read replica is unreachable; reading the primary")
                conn = None
            if conn is not None:
                try:
                    yield conn
                except DRIVER_ERRORS as exc:
                    raise StorageError(f"PostgreSQL replica: {type(exc).__name__}: {exc}") from exc
                finally:
                    with contextlib.suppress(*DRIVER_ERRORS):
                        await replica.release(conn)
                return
        async with self.primary_connection() as conn:
            yield conn

    async def _ready_translated(self) -> asyncpg.Pool:
        try:
            return await self._ready()
        except DRIVER_ERRORS as exc:
            raise StorageError(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc
        except RuntimeError as exc:
            raise StorageError(str(exc)) from exc

    async def _replica_caught_up(self) -> bool:
        """Whether the replica has replayed ``read_barrier``, waiting up to ``replica_wait``."""
        assert self._read_pool is not None
        if self._read_floor <= self._replica_seen:
            return True
        deadline = time.monotonic() + self.replica_wait
        delay = 0.005
        while True:
            try:
                replayed = await self._read_pool.fetchval(
                    _lsn_sql("pg_last_wal_replay_lsn"), timeout=self.connect_timeout
                )
            except DRIVER_ERRORS:
                _log.warning("the read replica is unreachable; reading the primary")
                return False
            if replayed is None:  # not in recovery: the "replica" is a primary itself
                return True
            self._replica_seen = max(self._replica_seen, int(replayed))
            if self._read_floor <= self._replica_seen:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def read_barrier(self, lsn: int) -> None:
        """Later reads must see everything the primary had written at WAL position ``lsn``."""
        self._read_floor = max(self._read_floor, lsn)

    async def primary_lsn(self, conn: asyncpg.Connection | None = None) -> int:
        """The primary's current WAL *insert* position (bytes since 0/0): past every commit
        record already made, even one not yet written out (``pg_current_wal_lsn`` is the
        write position, which lags it under ``synchronous_commit = off``)."""
        if conn is not None:
            return int(await conn.fetchval(_lsn_sql("pg_current_wal_insert_lsn")))
        async with self.primary_connection() as own:
            return int(await own.fetchval(_lsn_sql("pg_current_wal_insert_lsn")))

    async def _after_write(self, conn: asyncpg.Connection) -> None:
        # Read-your-writes at this location when reads go to a replica.
        if self.read_dsn:
            self.read_barrier(await self.primary_lsn(conn))

    async def _space_id(self, conn: asyncpg.Connection, space: str, create: bool) -> int | None:
        sid = self._space_ids.get(space)
        if sid is not None:
            return sid
        sid = await conn.fetchval("SELECT id FROM spaces WHERE name = $1", space)
        if sid is None:
            if not create:
                return None
            # Outside the caller's transaction would be nicer, but ON CONFLICT makes a
            # concurrent creation harmless and a rolled-back one is retried (cache popped).
            sid = await conn.fetchval(
                "INSERT INTO spaces (name) VALUES ($1) ON CONFLICT (name) DO UPDATE "
                "SET name = EXCLUDED.name RETURNING id", space,
            )
        self._space_ids[space] = int(sid)
        return int(sid)

    # -- entries -------------------------------------------------------------------------------

    async def get(self, space: str, key: str) -> Record | None:
        async with self._reader() as conn:
            sid = await self._space_id(conn, space, create=False)
            if sid is None:
                return None
            row = await conn.fetchrow(
                "SELECT value, expiration, metadata FROM entries "
                "WHERE space = $1 AND key = $2 AND value IS NOT NULL "
                "AND (expiration IS NULL OR expiration > $3)",
                sid, _encode(key), _now_int(self.clock.now()),
            )
        return None if row is None else Record(key, row[0], row[1], row[2])

    async def get_many(self, space: str, keys: Sequence[str]) -> dict[str, Record]:
        if not keys:
            return {}
        async with self._reader() as conn:
            sid = await self._space_id(conn, space, create=False)
            if sid is None:
                return {}
            rows = await conn.fetch(
                "SELECT key, value, expiration, metadata FROM entries "
                "WHERE space = $1 AND key = ANY($2::bytea[]) AND value IS NOT NULL "
                "AND (expiration IS NULL OR expiration > $3)",
                sid, [_encode(k) for k in dict.fromkeys(keys)], _now_int(self.clock.now()),
            )
        out = {}
        for raw, value, exp, meta in rows:
            key = raw.decode("utf-8")
            out[key] = Record(key, value, exp, meta)
        return out

    async def put(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> None:
        await self.put_versioned(space, key, value, expiration=expiration, metadata=metadata)

    async def delete(self, space: str, key: str) -> bool:
        removed, _version = await self.delete_versioned(space, key)
        return removed

    # -- versions (the edge cache's optional ``VersionedStore`` protocol) ----------------------

    async def put_versioned(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> int:
        """``put``, returning the version the write was given. If a concurrent writer with a
        higher version got there first, this write is dropped (last writer wins)."""
        async with self.primary_connection() as conn:
            sid = await self._space_id(conn, space, create=True)
            version = await conn.fetchval(
                _PUT_SQL, sid, _encode(key), bytes(value), expiration, metadata,
                self.clock.now(), space, self.channel, json.dumps(key), _NOTIFY_MAX,
            )
            await self._after_write(conn)
        return int(version)

    async def delete_versioned(self, space: str, key: str) -> tuple[bool, int]:
        """``delete``, returning (whether a live record was removed, the tombstone's version)."""
        async with self.primary_connection() as conn:
            sid = await self._space_id(conn, space, create=True)
            now = self.clock.now()
            row = await conn.fetchrow(
                _DELETE_SQL, sid, _encode(key), now, _now_int(now), space, self.channel,
                json.dumps(key), _NOTIFY_MAX,
            )
            await self._after_write(conn)
        return bool(row[0]), int(row[1])

    async def get_versioned(self, space: str, key: str) -> tuple[Record | None, int]:
        """(the live record or ``None``, the version of the key's latest change; ``0`` when
        none is known), read together in one statement."""
        found = await self.get_many_versioned(space, [key])
        return found[key]

    async def get_many_versioned(
        self, space: str, keys: Sequence[str]
    ) -> dict[str, tuple[Record | None, int]]:
        """``get_versioned`` for every key of ``keys`` (each one is in the result)."""
        out: dict[str, tuple[Record | None, int]] = {k: _Versioned(None, 0) for k in keys}
        if not keys:
            return out
        async with self._reader() as conn:
            sid = await self._space_id(conn, space, create=False)
            if sid is None:
                return out
            rows = await conn.fetch(
                "SELECT key, value, expiration, metadata, version FROM entries "
                "WHERE space = $1 AND key = ANY($2::bytea[])",
                sid, [_encode(k) for k in out],
            )
        now = _now_int(self.clock.now())
        for raw, value, exp, meta, version in rows:
            key = raw.decode("utf-8")
            live = value is not None and (exp is None or exp > now)
            out[key] = _Versioned(Record(key, value, exp, meta) if live else None, int(version))
        return out

    async def write_batch(
        self, space: str, puts: Iterable[Record] = (), deletes: Iterable[str] = ()
    ) -> None:
        delete_list = list(deletes)
        async with self.primary_connection() as conn:
            async with conn.transaction():
                await self.write_in_transaction(conn, space, puts, delete_list)
            await self._after_write(conn)

    async def write_in_transaction(
        self,
        conn: asyncpg.Connection,
        space: str,
        puts: Iterable[Record] = (),
        deletes: Iterable[str] = (),
    ) -> list[int]:
        """Apply a batch inside the caller's open transaction on ``conn`` (a connection from
        ``connect()``); returns the outbox sequence numbers taken. The changes are announced
        when the caller commits. Driver errors are not translated here."""
        now = self.clock.now()
        version, xid = await conn.fetchrow("SELECT nextval('versions'), pg_current_xact_id()::text")
        sid = await self._space_id(conn, space, create=True)
        try:
            # key -> last op, for the keys actually written: a key whose row already has a
            # newer version (a concurrent writer won) is neither changed nor announced.
            final: dict[str, str] = {}
            delete_keys = list(dict.fromkeys(deletes))
            if delete_keys:
                rows = await conn.fetch(_TOMBSTONE_MANY_SQL, sid,
                                        [_encode(k) for k in delete_keys], version, now)
                written = {bytes(r[0]) for r in rows}
                for key in delete_keys:
                    if _encode(key) in written:
                        final[key] = "delete"
            for chunk in _chunks(puts):
                rows = await conn.fetch(
                    _UPSERT_MANY_SQL, sid, [_encode(r.key) for r in chunk],
                    [bytes(r.value or b"") for r in chunk], [r.expiration for r in chunk],
                    [r.metadata for r in chunk], version, now,
                )
                written = {bytes(r[0]) for r in rows}
                for record in chunk:
                    if _encode(record.key) in written:
                        final.pop(record.key, None)  # keep the change order of the last op
                        final[record.key] = "put"
            if not final:
                return []
            keys = list(final)
            rows = await conn.fetch(
                "INSERT INTO changes (xid, space, key, version, op, at) "
                "SELECT $1::text::xid8, $2, k, $3, o, $4 "
                "FROM unnest($5::bytea[], $6::text[]) WITH ORDINALITY AS r(k, o, n) "
                "ORDER BY n RETURNING seq",
                xid, space, version, now, [_encode(k) for k in keys], list(final.values()),
            )
            seqs = [int(r[0]) for r in rows]
            changes = [[seq, space, key, op] for seq, (key, op) in zip(seqs, final.items())]
            await self._notify(conn, xid, int(version), changes)
            return seqs
        except BaseException:
            self._space_ids.pop(space, None)  # the space row may be rolled back
            raise

    async def _notify(
        self, conn: asyncpg.Connection, xid: str, version: int, changes: list[list[Any]]
    ) -> None:
        payload = json.dumps({"x": xid, "v": version, "t": self.clock.now(), "c": changes},
                             separators=(",", ":"))
        if len(payload.encode()) >= _NOTIFY_MAX:
            # Too long for NOTIFY: listeners read this transaction's rows from the outbox.
            payload = json.dumps({"x": xid, "v": version}, separators=(",", ":"))
        await conn.execute("SELECT pg_notify($1, $2)", self.channel, payload)

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
        columns = "key, value, expiration, metadata" if values else "key, NULL, expiration, metadata"
        rows = await self._select(columns, space, prefix, start, start_after, end, reverse, limit)
        return [Record(k.decode("utf-8"), v, e, m) for k, v, e, m in rows]

    async def scan_keys(
        self, space: str, *, prefix: str = "", start_after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, int | None, str | None]]:
        rows = await self._select(
            "key, expiration, metadata", space, prefix, None, start_after, None, False, limit
        )
        return [(k.decode("utf-8"), e, m) for k, e, m in rows]

    async def count(self, space: str, *, prefix: str = "") -> int:
        """How many live records ``space`` holds (keys starting with ``prefix``): one
        index range count, tombstones and expired records left out."""
        async with self._reader() as conn:
            sid = await self._space_id(conn, space, create=False)
            if sid is None:
                return 0
            where = ["space = $1", "value IS NOT NULL", "(expiration IS NULL OR expiration > $2)"]
            params: list[Any] = [sid, _now_int(self.clock.now())]
            if prefix:
                params.append(_encode(prefix))
                where.append(f"key >= ${len(params)}")
                upper = prefix_upper_bound(prefix)
                if upper is not None:
                    params.append(_encode(upper))
                    where.append(f"key < ${len(params)}")
            return int(await conn.fetchval(
                f"SELECT count(*) FROM entries WHERE {' AND '.join(where)}", *params))

    async def _select(
        self, columns: str, space: str, prefix: str, start: str | None,
        start_after: str | None, end: str | None, reverse: bool, limit: int | None,
    ) -> list[Any]:
        """Rows of ``columns`` for live keys of ``space`` within the bounds, in key order."""
        if limit is not None and limit <= 0:
            return []
        async with self._reader() as conn:
            sid = await self._space_id(conn, space, create=False)
            if sid is None:
                return []
            where = ["space = $1", "value IS NOT NULL", "(expiration IS NULL OR expiration > $2)"]
            params: list[Any] = [sid, _now_int(self.clock.now())]

            def bound(op: str, value: str) -> None:
                params.append(_encode(value))
                where.append(f"key {op} ${len(params)}")

            if prefix:
                bound(">=", prefix)
                upper = prefix_upper_bound(prefix)
                if upper is not None:
                    bound("<", upper)
            if start is not None:
                bound(">=", start)
            if start_after is not None:
                bound(">", start_after)
            if end is not None:
                bound("<", end)
            sql = (
                f"SELECT {columns} FROM entries WHERE {' AND '.join(where)} "
                f"ORDER BY key {'DESC' if reverse else 'ASC'}"
            )
            if limit is not None:
                params.append(limit)
                sql += f" LIMIT ${len(params)}"
            return list(await conn.fetch(sql, *params))

    async def _drop_rows(self, conn: asyncpg.Connection, space: str) -> None:
        """Delete a space's rows and announce the drop (inside the caller's transaction)."""
        sid = await self._space_id(conn, space, create=False)
        if sid is None:
            return
        version, xid = await conn.fetchrow("SELECT nextval('versions'), pg_current_xact_id()::text")
        await conn.execute("DELETE FROM entries WHERE space = $1", sid)
        seq = await conn.fetchval(
            "INSERT INTO changes (xid, space, key, version, op, at) "
            "VALUES ($1::text::xid8, $2, NULL, $3, 'drop', $4) RETURNING seq",
            xid, space, version, self.clock.now(),
        )
        await self._notify(conn, xid, int(version), [[int(seq), space, None, "drop"]])

    async def drop_space(self, space: str) -> None:
        async with self.primary_connection() as conn:
            async with conn.transaction():
                await self._drop_rows(conn, space)
            await self._after_write(conn)

    async def purge_expired(self) -> int:
        """Remove expired records, and trim old tombstones and the outbox (docs/postgresql.md)."""
        now = self.clock.now()
        async with self.primary_connection() as conn:
            result = await conn.execute(
                "DELETE FROM entries WHERE expiration IS NOT NULL AND expiration <= $1 "
                "AND value IS NOT NULL", _now_int(now),
            )
            await self._trim(conn, now)
        return int(result.split()[-1])

    async def trim(self) -> tuple[int, int]:
        """Remove tombstones older than ``tombstone_grace`` and outbox rows older than
        ``outbox_retention``; returns (tombstones, changes) removed."""
        async with self.primary_connection() as conn:
            return await self._trim(conn, self.clock.now())

    async def _trim(self, conn: asyncpg.Connection, now: float) -> tuple[int, int]:
        tombstones = await conn.execute(
            "DELETE FROM entries WHERE value IS NULL AND updated_at < $1", now - self.tombstone_grace
        )
        async with conn.transaction():
            # Only rows of transactions that every snapshot sees as finished (xid below the
            # oldest running one) are trimmed, and the highest trimmed xid is recorded, so a
            # listener that is behind it knows it may have missed changes (listener.py).
            row = await conn.fetchrow(
                "WITH gone AS (DELETE FROM changes WHERE at < $1 "
                "AND xid < pg_snapshot_xmin(pg_current_snapshot()) RETURNING xid) "
                "SELECT count(*), max(xid)::text FROM gone", now - self.outbox_retention,
            )
            if row[1] is not None:
                await conn.execute(
                    "UPDATE state SET value = greatest(value::xid8, $1::text::xid8)::text "
                    "WHERE name = 'trimmed_xid'", row[1],
                )
        return int(tombstones.split()[-1]), int(row[0])

    # -- namespace registry ------------------------------------------------------------------

    async def create_namespace(
        self, namespace_id: str, title: str, account_id: str = LOCAL_ACCOUNT_ID
    ) -> NamespaceInfo:
        async with self.primary_connection() as conn:
            try:
                await conn.execute(
                    "INSERT INTO kv_namespaces (id, account_id, title, created_at) "
                    "VALUES ($1, $2, $3, $4)", namespace_id, account_id, title, self.clock.now(),
                )
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name == "kv_namespaces_title_per_account":
                    raise NamespaceTitleExists(title) from exc
                raise StorageError(f"a KV namespace with id {namespace_id!r} already exists") from exc
        return NamespaceInfo(namespace_id, title, account_id)

    async def list_namespaces(self, account_id: str | None = None) -> list[NamespaceInfo]:
        async with self.primary_connection() as conn:
            if account_id is None:
                rows = await conn.fetch(
                    'SELECT id, title, account_id FROM kv_namespaces ORDER BY title COLLATE "C", id'
                )
            else:
                rows = await conn.fetch(
                    "SELECT id, title, account_id FROM kv_namespaces WHERE account_id = $1 "
                    'ORDER BY title COLLATE "C", id', account_id,
                )
        return [NamespaceInfo(*row) for row in rows]

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        async with self.primary_connection() as conn:
            row = await conn.fetchrow(
                "SELECT id, title, account_id FROM kv_namespaces WHERE id = $1", namespace_id
            )
        return NamespaceInfo(*row) if row else None

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        async with self.primary_connection() as conn:
            try:
                account = await conn.fetchval(
                    "UPDATE kv_namespaces SET title = $1 WHERE id = $2 RETURNING account_id",
                    title, namespace_id,
                )
            except asyncpg.UniqueViolationError as exc:
                raise NamespaceTitleExists(title) from exc
        if account is None:
            raise NamespaceNotFound(namespace_id)
        return NamespaceInfo(namespace_id, title, account)

    async def delete_namespace(self, namespace_id: str) -> None:
        async with self.primary_connection() as conn:
            async with conn.transaction():
                status = await conn.execute("DELETE FROM kv_namespaces WHERE id = $1", namespace_id)
                if status.split()[-1] == "0":
                    raise NamespaceNotFound(namespace_id)
                await self._drop_rows(conn, namespace_id)
            await self._after_write(conn)

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for pool in (self._read_pool, self._pool):
            if pool is None:
                continue
            try:
                await asyncio.wait_for(pool.close(), timeout=self.connect_timeout)
            except DRIVER_ERRORS:  # wait_for's TimeoutError among them (an OSError)
                pool.terminate()
        self._pool = self._read_pool = None


def _chunks(puts: Iterable[Record]) -> Iterator[list[Record]]:
    """``puts`` in chunks, each with one record per key (the last one given wins)."""
    chunk: dict[str, Record] = {}
    size = 0
    for record in puts:
        chunk.pop(record.key, None)
        chunk[record.key] = record
        size += len(record.value or b"")
        if len(chunk) >= _CHUNK_ROWS or size >= _CHUNK_BYTES:
            yield list(chunk.values())
            chunk, size = {}, 0
    if chunk:
        yield list(chunk.values())
