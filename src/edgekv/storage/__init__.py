"""The storage engine, with backends chosen by URL.

- ``memory://``: process-local dictionaries.
- ``sqlite:///PATH``: an embedded SQLite file (``sqlite:////abs/path.db`` for an absolute
  path, ``sqlite:///:memory:`` for a private in-memory database).

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


def open_store(url: str, *, clock: Clock | None = None) -> Store:
    """Open the store that ``url`` names. Raises ``BackendUnavailable`` for unknown schemes."""
    if url == "memory://" or url.startswith("memory://"):
        from edgekv.storage.memory import MemoryStore

        return MemoryStore(clock)
    if url.startswith("sqlite:///"):
        from edgekv.storage.sqlite import SqliteStore

        return SqliteStore(url[len("sqlite:///") :], clock)
    raise BackendUnavailable(
        f"unsupported storage URL {url!r}: use 'memory://' or 'sqlite:///PATH'"
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
