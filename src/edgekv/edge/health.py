"""``StoreHealth``: a circuit breaker in front of the central store.

After a failure the store is *down*: calls are refused at once (the caller serves stale
entries or fails fast) until a retry time; then one call at a time goes through as a probe.
A probe that succeeds closes the breaker and records ``recovered_at``; one that fails backs
off exponentially. Retry times carry random jitter so that hundreds of locations that lost
the store together do not all probe it together (the June 2025 lesson, docs/edge-cache.md).
"""

from __future__ import annotations

import random

__all__ = ["StoreHealth"]


class StoreHealth:
    """Breaker state of one location's view of the store. Times come from the caller's clock."""

    def __init__(
        self,
        *,
        initial_backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 10.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        self.initial_backoff_seconds = initial_backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.jitter = jitter  # retry after backoff * uniform(1 - jitter, 1 + jitter)
        self._rng = rng or random.Random()
        self.up = True
        self.down_since: float | None = None
        self.recovered_at: float | None = None
        self.retry_at = 0.0
        self._backoff = initial_backoff_seconds
        self._probing = False
        # Counts outages. A call remembers the generation it started in, so that the answer
        # of a call sent before the store went down neither closes the breaker nor counts
        # as a failed probe.
        self.generation = 0

    def allow(self, now: float) -> bool:
        """May a call go to the store now? While down, ``True`` for one probe at a time once
        the retry time has come."""
        if self.up:
            return True
        if self._probing or now < self.retry_at:
            return False
        self._probing = True
        return True

    def failure(self, now: float, generation: int) -> None:
        """A call that started in ``generation`` failed: the store could not be reached."""
        if self.up:
            self.up = False
            self.down_since = now
            self.generation += 1
            self._backoff = self.initial_backoff_seconds
        elif generation == self.generation:  # a probe failed: back off further
            self._backoff = min(self._backoff * 2, self.max_backoff_seconds)
        else:
            return  # sent before the outage began: the retry time stands
        spread = self._rng.uniform(1 - self.jitter, 1 + self.jitter)
        self.retry_at = now + self._backoff * spread
        self._probing = False

    def success(self, now: float, generation: int) -> None:
        """A call that started in ``generation`` reached the store."""
        if not self.up:
            if generation != self.generation:
                return  # answered before the outage began: says nothing about now
            self.up = True
            self.recovered_at = now
            self.down_since = None
        self._probing = False

    def release(self) -> None:
        """A call allowed by ``allow`` ended without an answer either way (cancelled)."""
        self._probing = False
