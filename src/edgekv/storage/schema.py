"""The SQLite schema and its migrations, versioned by ``PRAGMA user_version``.

Layout:
- ``spaces`` maps a space name (a KV namespace id, a Durable Object storage, ...) to a small
  integer, so the 32-hex names are not repeated in every row.
- ``entries`` holds the records, keyed ``(space, key)`` in a WITHOUT ROWID B-tree: a point
  read is one B-tree search, and keys compare with the BINARY collation, i.e. by UTF-8 bytes.
  Since version 3 a value larger than ``INLINE_VALUE_BYTES`` lives in ``blobs`` (a rowid
  table, filled in append order, so its pages are full) and the entry holds its ``vid``.
  Keys arrive in random order, which leaves B-tree pages about two thirds full: keeping
  large values out of that tree, and 16 KiB pages, keep the file within 1.3x of the data
  (bench/storage_size.py).
- ``kv_namespaces`` is the registry of KV namespaces (id <-> title, owned by an account;
  titles are unique per account) shared by the CLI and the servers. Version 2 added the
  ``account_id`` column; rows from version 1 belong to the local account.
"""

from __future__ import annotations

import sqlite3

__all__ = ["INLINE_VALUE_BYTES", "PAGE_SIZE_BYTES", "SCHEMA_VERSION", "migrate", "repage"]

_MIGRATIONS: list[str | list[str]] = [
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
    # version 3: values larger than INLINE_VALUE_BYTES move to the append-only ``blobs``
    # table (entries keep a ``vid``), so the randomly ordered key B-tree stays small and
    # dense; triggers delete a blob with the entry that owned it
    [
        "CREATE TABLE blobs (id INTEGER PRIMARY KEY, value BLOB NOT NULL)",
        """CREATE TABLE entries_v3 (
            space      INTEGER NOT NULL,
            key        TEXT NOT NULL,
            value      BLOB,
            vid        INTEGER,
            expiration INTEGER,
            metadata   TEXT,
            PRIMARY KEY (space, key)
        ) WITHOUT ROWID""",
        ("INSERT INTO entries_v3 (space, key, value, vid, expiration, metadata) "
         "SELECT space, key, value, NULL, expiration, metadata FROM entries "
         "WHERE length(value) <= 512"),
        ("INSERT INTO blobs (id, value) SELECT row_number() OVER (ORDER BY space, key), value "
         "FROM entries WHERE length(value) > 512"),
        ("INSERT INTO entries_v3 (space, key, value, vid, expiration, metadata) "
         "SELECT space, key, NULL, row_number() OVER (ORDER BY space, key), expiration, metadata "
         "FROM entries WHERE length(value) > 512"),
        "DROP TABLE entries",
        "ALTER TABLE entries_v3 RENAME TO entries",
        "CREATE INDEX entries_by_expiration ON entries (expiration) WHERE expiration IS NOT NULL",
        """CREATE TRIGGER entries_blob_on_delete AFTER DELETE ON entries
        WHEN old.vid IS NOT NULL BEGIN DELETE FROM blobs WHERE id = old.vid; END""",
        """CREATE TRIGGER entries_blob_on_update AFTER UPDATE OF vid ON entries
        WHEN old.vid IS NOT NULL AND old.vid IS NOT new.vid
        BEGIN DELETE FROM blobs WHERE id = old.vid; END""",
    ],
]

INLINE_VALUE_BYTES = 512  # values up to this size stay in the entry row (one B-tree search)
PAGE_SIZE_BYTES = 16384  # pages that hold several 1-3 KB blobs each (4 KiB pages held one)

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
            step = _MIGRATIONS[number]
            statements = step.split(";") if isinstance(step, str) else step
            for statement in statements:
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def repage(conn: sqlite3.Connection) -> bool:
    """Rewrite a database made with smaller pages to ``PAGE_SIZE_BYTES`` (a ``VACUUM``).

    Best effort, for stores created before version 3: it needs the file to itself (no other
    connection, e.g. a running server), so when SQLite reports it busy nothing changes and
    the next open tries again. Returns True if the file now has the new page size. A crash
    during the rewrite is safe (rollback journal).
    """
    if conn.execute("PRAGMA page_size").fetchone()[0] >= PAGE_SIZE_BYTES:
        return True
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute(f"PRAGMA page_size={PAGE_SIZE_BYTES}")
        conn.execute("VACUUM")
    except sqlite3.OperationalError:
        return False
    finally:
        conn.execute("PRAGMA journal_mode=WAL")
    return bool(conn.execute("PRAGMA page_size").fetchone()[0] >= PAGE_SIZE_BYTES)
