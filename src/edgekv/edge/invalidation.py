"""``Invalidator``: the transport-free half of push invalidation for one location.

A change feed (PostgreSQL LISTEN on the outbox, or the in-process ``VersioningStore``
listeners) calls ``apply_notice`` for each change it hears of, ``drop_all`` when it lost
changes it cannot replay, and keeps its position with ``last_seen``/``advance``. What the
notice does is decided here: drop the cached entry unless it already holds the announced
version or a newer one, or, for a popular entry, re-read it at once so hot keys stay warm.
Notices only improve freshness: a lost one leaves staleness bounded by the TTL, which is
Workers KV's own contract.
"""

from __future__ import annotations

from edgekv.edge.store import CachedStore

__all__ = ["Invalidator"]


class Invalidator:
    """Applies change notices to one ``CachedStore``.

    ``refresh_popular``: a notice for an entry read at least ``refresh_min_hits`` times is
    answered by re-reading the key in the background instead of only dropping it (the entry
    is dropped first, so no reader sees the old value meanwhile).
    """

    def __init__(self, store: CachedStore, *, refresh_popular: bool = False) -> None:
        self.store = store
        self.refresh_popular = refresh_popular
        self._last_seen = 0

    @property
    def last_seen(self) -> int:
        """The position (outbox sequence number) of the last change applied; 0 at start."""
        return self._last_seen

    def advance(self, seq: int) -> None:
        """Record that every change up to ``seq`` has been applied (never moves back)."""
        self._last_seen = max(self._last_seen, seq)

    def reset(self, seq: int) -> None:
        """Set the position outright (after ``drop_all``, to the outbox's current end)."""
        self._last_seen = seq

    def apply_notice(
        self, space: str, key: str, version: int | None, *, committed_at: float | None = None
    ) -> bool:
        """One change of ``key`` to ``version`` (``None``: unknown, always drops).
        ``committed_at`` (clock seconds) feeds the invalidation-lag histogram. Returns
        whether a cached entry was dropped."""
        store = self.store
        cache = store.cache
        metrics = store.metrics
        metrics.invalidations += 1
        if committed_at is not None:
            metrics.invalidation_lag.observe(max(0.0, store.clock.now() - committed_at))
        entry = cache.peek(space, key)
        popular = entry is not None and entry.hits >= store.policy.refresh_min_hits
        dropped = cache.invalidate(space, key, version)
        if dropped:
            metrics.invalidation_drops += 1
            if self.refresh_popular and popular:
                store.refresh_key(space, key, entry.ttl)  # type: ignore[union-attr]
        return dropped

    def drop_space(self, space: str) -> int:
        """A whole namespace changed (deleted or emptied): forget its entries."""
        return self.store.cache.discard_space(space)

    def drop_all(self) -> int:
        """Changes were lost beyond replay: forget everything this location holds."""
        self.store.metrics.full_drops += 1
        return self.store.cache.clear()
