"""Record versions: the optional store protocol that lets invalidation compare ages.

A *version* is an integer that the authoritative store assigns to every change (put or
delete) and that only grows over the whole store (a PostgreSQL sequence, for instance). The
version of a key is the version of its latest change; ``0`` means "no change known" (never
written, or the tombstone of its delete was swept). An edge cache that knows the version of
what it holds can ignore a notice about an older change and drop only what a newer one
replaced. A plain ``Store`` has no versions: the cache then works TTL-only and drops an entry
on any notice for its key (always safe; see docs/edge-cache.md).

``VersioningStore`` adds versions to any store inside one process (versions live in memory
and restart at 0): the simulation and the tests use it as the authority, and it publishes
every committed change to subscribers, the in-process analogue of PostgreSQL NOTIFY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from edgekv.edge.forwarding import ForwardingStore
from edgekv.storage.base import Record, Store

__all__ = ["Change", "Versioned", "VersionedStore", "VersioningStore"]


class Versioned(NamedTuple):
    """What a versioned read returns: the live record (``None`` when missing or expired) and
    the version of the key's latest change (``0`` when none is known). Inside the edge cache
    a read from a plain ``Store`` carries ``None``: no version at all."""

    record: Record | None
    version: int | None


class Change(NamedTuple):
    """One committed change, as announced to subscribers (and by PostgreSQL NOTIFY)."""

    space: str
    key: str
    version: int


@runtime_checkable
class VersionedStore(Protocol):
    """The optional extension of ``Store`` that an authoritative store implements so that
    edge caches can compare versions. Every method is atomic with the change it reports."""

    async def get_versioned(self, space: str, key: str) -> Versioned:
        """The live record of ``key`` with the version of its latest change."""
        ...

    async def get_many_versioned(self, space: str, keys: Sequence[str]) -> dict[str, Versioned]:
        """``get_versioned`` for several keys; every key of ``keys`` is in the result."""
        ...

    async def put_versioned(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> int:
        """``Store.put``, returning the version the write was given."""
        ...

    async def delete_versioned(self, space: str, key: str) -> tuple[bool, int]:
        """``Store.delete``, returning (whether a live record was removed, the version of
        the delete; ``0`` if nothing was recorded because the key never existed)."""
        ...


Listener = Callable[[Change], None]


class VersioningStore(ForwardingStore):
    """Wraps a store, numbering every change in this process and announcing it.

    Listeners are called synchronously after the change is durable in the inner store, in
    version order. Versions are not persisted: use this as the authority of one process (the
    simulation, tests), not across restarts.
    """

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self._versions: dict[tuple[str, str], int] = {}
        self._last = 0
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(change)`` after every committed change."""
        self._listeners.append(listener)

    @property
    def last_version(self) -> int:
        """The version of the latest change (0 before any)."""
        return self._last

    def _commit(self, space: str, key: str) -> int:
        self._last += 1
        self._versions[(space, key)] = self._last
        change = Change(space, key, self._last)
        for listener in self._listeners:
            listener(change)
        return self._last

    # -- the versioned protocol ---------------------------------------------------------

    # The version is taken before the read: a change that lands during the read then shows
    # as an answer older than its notice (not cached), never as an old value with a new
    # version (cached as current). The PostgreSQL store reads both in one statement.

    async def get_versioned(self, space: str, key: str) -> Versioned:
        version = self._versions.get((space, key), 0)
        record = await self.inner.get(space, key)
        return Versioned(record, version)

    async def get_many_versioned(self, space: str, keys: Sequence[str]) -> dict[str, Versioned]:
        versions = {k: self._versions.get((space, k), 0) for k in keys}
        found = await self.inner.get_many(space, keys)
        return {k: Versioned(found.get(k), versions[k]) for k in keys}

    async def put_versioned(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> int:
        await self.inner.put(space, key, value, expiration=expiration, metadata=metadata)
        return self._commit(space, key)

    async def delete_versioned(self, space: str, key: str) -> tuple[bool, int]:
        removed = await self.inner.delete(space, key)
        return removed, self._commit(space, key)

    # -- Store: writes are numbered --------------------------------------------------------

    async def put(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> None:
        await self.put_versioned(space, key, value, expiration=expiration, metadata=metadata)

    async def delete(self, space: str, key: str) -> bool:
        removed, _ = await self.delete_versioned(space, key)
        return removed

    async def write_batch(
        self, space: str, puts: Iterable[Record] = (), deletes: Iterable[str] = ()
    ) -> None:
        deletes = list(deletes)
        written: list[str] = []

        def tap() -> Iterable[Record]:
            for record in puts:
                written.append(record.key)
                yield record

        await self.inner.write_batch(space, tap(), deletes)
        for key in dict.fromkeys([*deletes, *written]):
            self._commit(space, key)
