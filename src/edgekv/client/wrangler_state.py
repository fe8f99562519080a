"""Read the KV data wrangler (Miniflare) keeps in ``.wrangler/state``, to bring it into edgekv.

Miniflare's layout (wrangler 4.x, ``.wrangler/state/v3/kv``; ``kvPersist`` folders too)::

    <kv>/<namespace id>/blobs/<blob id>                         the value bytes, one file each
    <kv>/miniflare-KVNamespaceObject/<64 hex>.sqlite            one database per namespace:
        _mf_entries(key TEXT PRIMARY KEY, blob_id TEXT, expiration INTEGER, metadata TEXT)

Expirations are milliseconds since the epoch; metadata is JSON text. A database's file name
is a Durable Object id, not the namespace id, so each database is matched to its namespace
through the folder that holds its blobs. Entries already expired are left out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from edgekv.errors import EdgeKVError
from edgekv.storage import Record

__all__ = ["WranglerKVNamespace", "WranglerStateError", "find_kv_namespaces", "kv_root"]

_OBJECTS = "miniflare-KVNamespaceObject"


class WranglerStateError(EdgeKVError):
    """The folder holds no wrangler KV state, or it cannot be read."""


@dataclass(frozen=True)
class WranglerKVNamespace:
    """One namespace of wrangler's local state: its id, database and blob folder."""

    namespace_id: str
    database: Path
    blobs: Path

    def records(self, now: int) -> Iterator[Record]:
        """The live entries, in key order, read lazily (one value in memory at a time)."""
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT key, blob_id, expiration, metadata FROM _mf_entries ORDER BY key")
            for key, blob_id, expiration_ms, metadata in rows:
                expiration = None if expiration_ms is None else int(expiration_ms) // 1000
                if expiration is not None and expiration <= now:
                    continue
                try:
                    value = (self.blobs / blob_id).read_bytes()
                except OSError as exc:
                    raise WranglerStateError(
                        f"the value of {key!r} ({self.blobs / blob_id}) cannot be read: "
                        f"{exc.strerror or exc}") from exc
                yield Record(key, value, expiration, metadata)
        except sqlite3.Error as exc:
            raise WranglerStateError(f"{self.database} cannot be read: {exc}") from exc
        finally:
            connection.close()


def kv_root(path: Path) -> Path:
    """The KV folder under ``path``: ``.wrangler/state``, its ``v3``, its ``v3/kv``, or a
    ``kvPersist`` folder. Raises ``WranglerStateError``."""
    for candidate in (path, path / "kv", path / "v3" / "kv", path / "state" / "v3" / "kv"):
        if (candidate / _OBJECTS).is_dir():
            return candidate
    raise WranglerStateError(f"no wrangler KV state in {path} (expected {path}/v3/kv/{_OBJECTS})")


def find_kv_namespaces(path: Path) -> list[WranglerKVNamespace]:
    """Every namespace with data under ``path`` (see ``kv_root``), by namespace id."""
    root = kv_root(path)
    blob_owner: dict[str, Path] = {}
    for folder in root.iterdir():
        blobs = folder / "blobs"
        if folder.name != _OBJECTS and blobs.is_dir():
            for blob in blobs.iterdir():
                blob_owner[blob.name] = folder
    found = []
    for database in sorted((root / _OBJECTS).glob("*.sqlite")):
        if database.name == "metadata.sqlite":
            continue
        try:
            connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
            try:
                row = connection.execute("SELECT blob_id FROM _mf_entries LIMIT 1").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise WranglerStateError(f"{database} cannot be read: {exc}") from exc
        if row is None:
            continue  # an empty namespace
        owner = blob_owner.get(row[0])
        if owner is None:
            raise WranglerStateError(f"the values of {database.name} are missing from {root}")
        found.append(WranglerKVNamespace(owner.name, database, owner / "blobs"))
    return sorted(found, key=lambda ns: ns.namespace_id)
