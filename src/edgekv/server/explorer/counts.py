"""``KeyCounts``: cached key counts of KV namespaces.

Counting is O(keys) (``Store.count``: one ``COUNT(*)`` on a worker thread, ~0.1 s per
million keys in SQLite), so a count is computed on request, kept for ``ttl_seconds``, and
shared by concurrent requests for the same namespace; the explorer asks for counts after
it has shown a page, never before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from edgekv.storage import Store

__all__ = ["CountResult", "KeyCounts"]


@dataclass(frozen=True, slots=True)
class CountResult:
    """A key count and its age in seconds when answered."""

    count: int
    age_seconds: float


class KeyCounts:
    """Counts per namespace id, each cached for ``ttl_seconds`` (a monotonic clock)."""

    def __init__(self, store: Store, *, ttl_seconds: float = 10.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self._now = now
        self._cache: dict[str, tuple[float, int]] = {}
        self._running: dict[str, asyncio.Task[int]] = {}

    def forget(self, namespace_id: str) -> None:
        """Drop the cached count (after a write made through the explorer)."""
        self._cache.pop(namespace_id, None)

    async def count(self, namespace_id: str, *, fresh: bool = False) -> CountResult:
        """The namespace's key count, fresh within ``ttl_seconds`` (recomputed when
        ``fresh``, e.g. right after the page wrote; a computation already running is shared)."""
        cached = self._cache.get(namespace_id)
        now = self._now()
        if not fresh and cached is not None and now - cached[0] < self.ttl_seconds:
            return CountResult(cached[1], now - cached[0])
        task = self._running.get(namespace_id)
        if task is None:
            task = asyncio.ensure_future(self.store.count(namespace_id))
            self._running[namespace_id] = task
            task.add_done_callback(lambda _t: self._running.pop(namespace_id, None))
        value = await asyncio.shield(task)
        self._cache[namespace_id] = (self._now(), value)
        if len(self._cache) > 4096:
            self._cache.clear()
        return CountResult(value, 0.0)
