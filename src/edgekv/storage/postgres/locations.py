"""The location registry of a deployment, kept in the shared store.

- Every location registers itself (name, public URL) and sends heartbeats; ``list_locations``
  shows when each was last heard from, so operators and peers can tell live ones.
- One location is the *primary* (it runs the Durable Objects). It holds a lease row carrying
  its URL and an internal credential that the other locations use to forward requests to
  it. A second primary cannot take the lease while it is held and unexpired
  (``PrimaryLeaseHeld``); the holder renews it by acquiring again before it expires.

Times come from the store's injected clock (seconds since the epoch), so every location must
run a synchronized wall clock (NTP); a lease's ``ttl`` should be several heartbeats long.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgekv.errors import PrimaryLeaseHeld
from edgekv.storage.postgres.store import PostgresStore

__all__ = ["Location", "LocationRegistry", "PrimaryLease"]


@dataclass(frozen=True, slots=True)
class Location:
    """A registered location and when it last sent a heartbeat."""

    name: str
    url: str
    started_at: float
    heartbeat_at: float


@dataclass(frozen=True, slots=True)
class PrimaryLease:
    """The primary location's lease: who holds it, where it listens, how to authenticate."""

    holder: str
    url: str
    credential: str
    acquired_at: float
    expires_at: float


class LocationRegistry:
    """The ``locations`` and ``primary_lease`` tables of a ``PostgresStore``."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def register_location(self, name: str, url: str) -> Location:
        """Add ``name`` (or update its URL after a restart) with a fresh heartbeat."""
        now = self.store.clock.now()
        async with self.store.primary_connection() as conn:
            await conn.execute(
                "INSERT INTO locations (name, url, started_at, heartbeat_at) VALUES ($1, $2, $3, $3) "
                "ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, "
                "started_at = EXCLUDED.started_at, heartbeat_at = EXCLUDED.heartbeat_at",
                name, url, now,
            )
        return Location(name, url, now, now)

    async def heartbeat(self, name: str) -> bool:
        """Record that ``name`` is alive; ``False`` if it is not registered."""
        async with self.store.primary_connection() as conn:
            status = await conn.execute(
                "UPDATE locations SET heartbeat_at = $2 WHERE name = $1",
                name, self.store.clock.now(),
            )
        return status.split()[-1] != "0"

    async def unregister_location(self, name: str) -> None:
        """Remove ``name`` (a location shutting down for good)."""
        async with self.store.primary_connection() as conn:
            await conn.execute("DELETE FROM locations WHERE name = $1", name)

    async def list_locations(self, *, alive_within: float | None = None) -> list[Location]:
        """Registered locations by name; with ``alive_within``, only those whose last
        heartbeat is at most that many seconds old."""
        async with self.store.primary_connection() as conn:
            rows = await conn.fetch(
                "SELECT name, url, started_at, heartbeat_at FROM locations "
                'WHERE $1::float8 IS NULL OR heartbeat_at >= $2 ORDER BY name COLLATE "C"',
                alive_within, self.store.clock.now() - (alive_within or 0.0),
            )
        return [Location(*row) for row in rows]

    async def acquire_primary_lease(
        self, holder: str, url: str, credential: str, *, ttl: float = 30.0
    ) -> PrimaryLease:
        """Take (or renew) the primary lease for ``ttl`` seconds.

        Raises ``PrimaryLeaseHeld`` (naming the holder and its URL) when another holder has
        an unexpired lease. Renewing keeps ``acquired_at``.
        """
        now = self.store.clock.now()
        async with self.store.primary_connection() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO primary_lease AS l "
                "(id, holder, url, credential, acquired_at, expires_at) "
                "VALUES (1, $1, $2, $3, $4, $5) "
                "ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, url = EXCLUDED.url, "
                "credential = EXCLUDED.credential, expires_at = EXCLUDED.expires_at, "
                "acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at "
                "ELSE EXCLUDED.acquired_at END "
                "WHERE l.holder = EXCLUDED.holder OR l.expires_at <= EXCLUDED.acquired_at "
                "RETURNING holder, url, credential, acquired_at, expires_at",
                holder, url, credential, now, now + ttl,
            )
            if row is None:
                current = await conn.fetchrow(
                    "SELECT holder, url, expires_at FROM primary_lease WHERE id = 1"
                )
                raise PrimaryLeaseHeld(current[0], current[1], current[2])
        return PrimaryLease(*row)

    async def release_primary_lease(self, holder: str) -> bool:
        """Give the lease up (on shutdown); ``False`` if ``holder`` did not hold it."""
        async with self.store.primary_connection() as conn:
            status = await conn.execute("DELETE FROM primary_lease WHERE id = 1 AND holder = $1",
                                        holder)
        return status.split()[-1] != "0"

    async def primary(self) -> PrimaryLease | None:
        """The current unexpired lease (where to forward Durable Object requests), or ``None``."""
        async with self.store.primary_connection() as conn:
            row = await conn.fetchrow(
                "SELECT holder, url, credential, acquired_at, expires_at FROM primary_lease "
                "WHERE id = 1 AND expires_at > $1", self.store.clock.now(),
            )
        return PrimaryLease(*row) if row else None
