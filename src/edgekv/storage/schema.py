"""The SQLite schema and its migrations, versioned by ``PRAGMA user_version``.

Layout:
- ``spaces`` maps a space name (a KV namespace id, a Durable Object storage, ...) to a small
  integer, so the 32-hex names are not repeated in every row.
- ``entries`` holds the records, keyed ``(space, key)`` in a WITHOUT ROWID B-tree: a point
  read is one B-tree search, and keys compare with the BINARY collation, i.e. by UTF-8 bytes.
- ``kv_namespaces`` is the registry of KV namespaces (id <-> title, owned by an account;
  titles are unique per account) shared by the CLI and the servers. Version 2 added the
  ``account_id`` column; rows from version 1 belong to the local account.
"""

from __future__ import annotations

import sqlite3

__all__ = ["SCHEMA_VERSION", "migrate"]

_MIGRATIONS: list[str] = [
    # version 1
    """
    CREATE TABLE spaces (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE entries (
        space      INTEGER NOT NULL,
        key        TEXT NOT NULL,
        value      BLOB NOT NULL,
        expiration INTEGER,
        metadata   TEXT,
        PRIMARY KEY (space, key)
    ) WITHOUT ROWID;
    CREATE INDEX entries_by_expiration ON entries (expiration) WHERE expiration IS NOT NULL;
    CREATE TABLE kv_namespaces (
        id         TEXT PRIMARY KEY,
        title      TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL
    );
    """,
    # version 2: namespaces belong to accounts; titles are unique per account
    """
    CREATE TABLE kv_namespaces_v2 (
        id         TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        title      TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (account_id, title)
    );
    INSERT INTO kv_namespaces_v2 (id, account_id, title, created_at)
        SELECT id, 'edeed0000000000000000000000000c1', title, created_at FROM kv_namespaces;
    DROP TABLE kv_namespaces;
    ALTER TABLE kv_namespaces_v2 RENAME TO kv_namespaces;
    """,
]

SCHEMA_VERSION = len(_MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database up to ``SCHEMA_VERSION``; each step runs in its own transaction.

    Raises ``RuntimeError`` if the file was written by a newer edgekv. A database already at
    ``SCHEMA_VERSION`` is not write-locked (opening a store beside a busy writer must not wait).
    """
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {version} is newer than this edgekv ({SCHEMA_VERSION})"
            )
        for number in range(version, SCHEMA_VERSION):
            for statement in _MIGRATIONS[number].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
