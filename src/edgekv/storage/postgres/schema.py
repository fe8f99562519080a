"""The PostgreSQL schema and its migrations, created and upgraded by edgekv itself.

Everything lives in one PostgreSQL schema (``edgekv`` unless the URL says ``?schema=NAME``),
so one database can hold several independent edgekv deployments (the tests use one schema
each). Layout (docs/postgresql.md explains each choice):

- ``spaces``: space name -> small integer, as in the SQLite layout.
- ``entries``: ``(space, key bytea)`` primary key, so keys compare by bytes in the B-tree.
  ``value IS NULL`` marks a tombstone. ``version`` comes from the ``versions`` sequence;
  ``updated_at`` (injected clock) dates tombstones for trimming.
- ``changes``: the outbox. One row per changed key (``key IS NULL``: the whole space was
  dropped), written in the same transaction as the data, with the writing transaction's id
  (``xid``) so that listeners can catch up without skipping late commits.
- ``state``: named counters (``trimmed_xid``: rows of the outbox with an older xid may be gone).
- ``kv_namespaces``, ``locations``, ``primary_lease``: shared registries.

Migrations run under a transaction-scoped advisory lock, so processes that start together
migrate once.
"""

from __future__ import annotations

import asyncpg

__all__ = ["SCHEMA_VERSION", "migrate", "quote_ident"]

_MIGRATIONS: list[str] = [
    # version 1
    """
    CREATE TABLE spaces (
        id   serial PRIMARY KEY,
        name text NOT NULL UNIQUE
    );
    CREATE SEQUENCE versions;
    CREATE TABLE entries (
        space      integer NOT NULL,
        key        bytea NOT NULL,
        value      bytea,
        expiration bigint,
        metadata   text,
        version    bigint NOT NULL,
        updated_at double precision NOT NULL,
        PRIMARY KEY (space, key)
    );
    CREATE INDEX entries_by_expiration ON entries (expiration)
        WHERE expiration IS NOT NULL AND value IS NOT NULL;
    CREATE INDEX tombstones_by_age ON entries (updated_at) WHERE value IS NULL;
    CREATE TABLE changes (
        seq     bigserial PRIMARY KEY,
        xid     xid8 NOT NULL,
        space   text NOT NULL,
        key     bytea,
        version bigint NOT NULL,
        op      text NOT NULL,
        at      double precision NOT NULL
    );
    CREATE INDEX changes_by_xid ON changes (xid);
    CREATE INDEX changes_by_age ON changes (at);
    CREATE TABLE state (
        name  text PRIMARY KEY,
        value text NOT NULL
    );
    INSERT INTO state (name, value) VALUES ('trimmed_xid', '0');
    CREATE TABLE kv_namespaces (
        id         text PRIMARY KEY,
        account_id text NOT NULL,
        title      text NOT NULL,
        created_at double precision NOT NULL,
        CONSTRAINT kv_namespaces_title_per_account UNIQUE (account_id, title)
    );
    CREATE TABLE locations (
        name         text PRIMARY KEY,
        url          text NOT NULL,
        started_at   double precision NOT NULL,
        heartbeat_at double precision NOT NULL
    );
    CREATE TABLE primary_lease (
        id          integer PRIMARY KEY CHECK (id = 1),
        holder      text NOT NULL,
        url         text NOT NULL,
        credential  text NOT NULL,
        acquired_at double precision NOT NULL,
        expires_at  double precision NOT NULL
    );
    """,
]

SCHEMA_VERSION = len(_MIGRATIONS)


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    """Create ``schema`` if needed and bring it to ``SCHEMA_VERSION``, in one transaction.

    The connection's ``search_path`` must already name ``schema``. Raises ``RuntimeError``
    if the schema was written by a newer edgekv.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", "edgekv:" + schema)
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        version = await conn.fetchval("SELECT version FROM schema_version")
        if version is None:
            await conn.execute("INSERT INTO schema_version (version) VALUES (0)")
            version = 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {version} is newer than this edgekv ({SCHEMA_VERSION})"
            )
        for number in range(version, SCHEMA_VERSION):
            await conn.execute(_MIGRATIONS[number])
            await conn.execute("UPDATE schema_version SET version = $1", number + 1)
