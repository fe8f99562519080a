"""The storage engine, with backends chosen by URL.

- ``memory://``: process-local dictionaries.
- ``sqlite:///PATH``: an embedded SQLite file (``sqlite:////abs/path.db`` for an absolute
  path, ``sqlite:///:memory:`` for a private in-memory database).
- ``postgresql://USER@HOST:PORT/DB[?schema=NAME]``: PostgreSQL shared by many locations
  (needs the ``postgres`` extra; docs/postgresql.md). ``read_url`` names a streaming replica
  to read from.

Backends are imported lazily, so an optional backend's dependency is only needed when used.
"""

from __future__ import annotations

import asyncio
import logging

from edgekv.clock import Clock
from edgekv.errors import BackendUnavailable, StorageError
from edgekv.storage.base import LOCAL_ACCOUNT_ID, NamespaceInfo, Record, Store, prefix_upper_bound

_log = logging.getLogger("edgekv.storage")

__all__ = ["LOCAL_ACCOUNT_ID", "NamespaceInfo", "Record", "Store", "open_store", "prefix_upper_bound", "sweep_forever"]


def open_store(url: str, *, clock: Clock | None = None, read_url: str | None = None) -> Store:
    """Open the store that ``url`` names. Raises ``BackendUnavailable`` for unknown schemes
    or a missing optional dependency. ``read_url`` is only accepted by ``postgresql://``."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from edgekv.storage.postgres import PostgresStore
        except ImportError as exc:
            raise BackendUnavailable(
                "the postgresql:// backend needs asyncpg: pip install 'edgekv[postgres]'"
            ) from exc
        return PostgresStore(url, clock, read_url=read_url)
    if read_url is not None:
        raise BackendUnavailable("a separate read store needs a postgresql:// store")
    if url == "memory://" or url.startswith("memory://"):
        from edgekv.storage.memory import MemoryStore

        return MemoryStore(clock)
    if url.startswith("sqlite:///"):
        from edgekv.storage.sqlite import SqliteStore

        return SqliteStore(url[len("sqlite:///") :], clock)
    raise BackendUnavailable(
        f"unsupported storage URL {url!r}: use 'memory://', 'sqlite:///PATH' "
        "or 'postgresql://...'"
    )


async def sweep_forever(store: Store, interval_seconds: float = 60.0) -> None:
    """Remove expired records every ``interval_seconds`` until cancelled.

    Reads already hide expired records; the sweep only reclaims their space.
    """
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await store.purge_expired()
        except StorageError:  # a failed sweep is retried next time; reads already hide expiry
            _log.exception("sweeping expired records failed")
