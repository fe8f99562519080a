"""``ClusterLocation``: one location of a many-location deployment (``edgekv serve --store
postgresql://... --location NAME``).

It owns, for the lifetime of the server:

- the central ``PostgresStore`` (shared by every location of the cluster);
- the ``CachedStore`` in front of it, which the Worker's KV bindings and the REST API use;
- the ``ChangeListener`` that feeds the cache's ``Invalidator`` (LISTEN/NOTIFY with
  catch-up from the outbox, so a lost notice leaves staleness bounded by the TTL);
- its row in the location registry and a heartbeat task;
- on ``--primary``, the primary lease (with this location's URL and a fresh internal
  credential); a second primary refuses to start with ``PrimaryLeaseHeld``.

It also answers the management endpoints' questions: ``metrics_text`` (Prometheus text),
``locations`` (the registry with each one's health) and ``describe`` (what this location
holds for one key). The contract is in docs/cluster.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any, Final

from edgekv.clock import SYSTEM_CLOCK, Clock
from edgekv.edge import CachedStore, EdgePolicy, Invalidator
from edgekv.errors import StorageError
from edgekv.storage import open_store

__all__ = ["HEARTBEAT_SECONDS", "LEASE_SECONDS", "ClusterLocation"]

logger = logging.getLogger("edgekv.cluster")

HEARTBEAT_SECONDS: Final = 5.0  # registry heartbeat and lease renewal period
LEASE_SECONDS: Final = 30.0  # a primary lease outlives several missed heartbeats
# A location whose last heartbeat is older than this is reported "down".
DOWN_AFTER_SECONDS: Final = 3 * HEARTBEAT_SECONDS


class ClusterLocation:
    """One location over the central store at ``store_url`` (``postgresql://`` only).

    Use: ``location = ClusterLocation(...)``; ``await location.start(url)`` before serving
    (raises ``StorageError``, including ``PrimaryLeaseHeld``); ``await location.announce(url)``
    once the real URL is known; ``await location.close()`` on shutdown (idempotent).
    """

    def __init__(
        self,
        name: str,
        store_url: str,
        *,
        primary: bool = False,
        read_url: str | None = None,
        clock: Clock | None = None,
        policy: EdgePolicy | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
        listener_poll_seconds: float = 10.0,
    ) -> None:
        if not store_url.startswith(("postgresql://", "postgres://")):
            raise StorageError("a cluster location needs a postgresql:// store (--store)")
        self.name = name
        self.primary = primary
        self.clock = clock or SYSTEM_CLOCK
        # open_store first: without asyncpg it raises BackendUnavailable naming the extra.
        central = open_store(store_url, clock=self.clock, read_url=read_url)
        from edgekv.storage.postgres import ChangeListener, LocationRegistry, PostgresStore

        assert isinstance(central, PostgresStore)
        self.central: PostgresStore = central
        self.store = CachedStore(central, policy=policy, close_inner=False)
        self.invalidator = Invalidator(self.store)
        self.listener = ChangeListener.for_invalidator(
            central, self.invalidator, poll_interval=listener_poll_seconds
        )
        self.registry = LocationRegistry(central)
        #: The secret other locations present to this primary's internal endpoints.
        self.credential = secrets.token_urlsafe(32) if primary else ""
        self.url = ""
        self._heartbeat_seconds = heartbeat_seconds
        self._lease_seconds = lease_seconds
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self, url: str) -> None:
        """Register at ``url``, take the primary lease (when primary), start listening and
        heartbeating. Raises ``StorageError`` (``PrimaryLeaseHeld`` for a second primary)."""
        self.url = url
        if self.primary:
            await self.registry.acquire_primary_lease(
                self.name, url, self.credential, ttl=self._lease_seconds
            )
        await self.registry.register_location(self.name, url)
        await self.listener.start()
        self._task = asyncio.create_task(self._beat_forever(), name="edgekv-location-heartbeat")

    async def announce(self, url: str) -> None:
        """Record the URL the server really listens on (known once it is bound)."""
        self.url = url
        try:
            await self.registry.register_location(self.name, url)
            if self.primary:
                await self.registry.acquire_primary_lease(
                    self.name, url, self.credential, ttl=self._lease_seconds
                )
        except StorageError as exc:  # the heartbeat retries
            logger.warning("location %s: could not announce %s: %s", self.name, url, exc)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            try:
                if not await self.registry.heartbeat(self.name):
                    await self.registry.register_location(self.name, self.url)
                if self.primary:
                    await self.registry.acquire_primary_lease(
                        self.name, self.url, self.credential, ttl=self._lease_seconds
                    )
            except StorageError as exc:
                # The store is down (or another primary took an expired lease): keep
                # serving cached reads and keep trying.
                logger.warning("location %s: heartbeat failed: %s", self.name, exc)

    async def close(self) -> None:
        """Stop the heartbeat and listener, give the lease back, close the stores."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.listener.stop()
        if self.primary:
            with contextlib.suppress(StorageError, OSError):
                await self.registry.release_primary_lease(self.name)
        await self.store.close()  # the runtime may have closed it already (idempotent)
        await self.central.close()

    # -- what the management endpoints show -----------------------------------------------

    def metrics_text(self) -> str:
        """This location's metrics in Prometheus text format, labelled with its name."""
        label = 'location="' + self.name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return self.store.render_metrics(label)

    def describe(self, space: str, key: str) -> dict[str, Any]:
        """What this location holds for ``key`` of namespace ``space``."""
        held = self.store.describe(space, key)
        if held is None:
            return {"location": self.name, "state": "absent"}
        state = "missing" if held["missing"] else ("fresh" if held["ttl_left"] > 0 else "stale")
        return {
            "location": self.name,
            "state": state,
            "version": held["version"],
            "age_seconds": round(held["age"], 3),
            "ttl_seconds": held["ttl"],
            "ttl_left_seconds": round(held["ttl_left"], 3),
            "expiration": held["expiration"],
            "tier": held["tier"],
            "hits": held["hits"],
        }

    async def locations(self) -> list[dict[str, Any]]:
        """The registry with each location's health (``up`` while its heartbeat is recent)
        and which one is primary. This location adds its own cache figures."""
        listed = await self.registry.list_locations()
        lease = await self.registry.primary()
        now = self.clock.now()
        result = []
        for loc in listed:
            age = now - loc.heartbeat_at
            row: dict[str, Any] = {
                "id": loc.name,
                "name": loc.name,
                "url": loc.url,
                "health": "up" if age <= DOWN_AFTER_SECONDS else "down",
                "heartbeat_age_seconds": round(age, 3),
                "started_at": loc.started_at,
                "primary": lease is not None and lease.holder == loc.name,
                "self": loc.name == self.name,
            }
            if loc.name == self.name:
                row.update(self._own_figures())
            result.append(row)
        return result

    def _own_figures(self) -> dict[str, Any]:
        metrics = self.store.metrics
        hits = metrics.hits + metrics.stale_serves
        total = hits + metrics.misses
        lag = metrics.invalidation_lag
        return {
            "cache_entries": len(self.store.cache),
            "cache_bytes": self.store.cache.bytes_used,
            "hit_ratio": round(hits / total, 4) if total else None,
            "invalidation_lag_ms": round(lag.total / lag.count * 1000, 3) if lag.count else None,
            "store_up": self.store.health.up,
        }
