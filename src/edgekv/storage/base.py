"""The storage engine interface: bytes in, bytes out, ordered keys, absolute expiry.

The engine knows nothing of KV's messages or limits. Keys are ``str`` and are ordered by
their UTF-8 bytes (which is Unicode code-point order, Python's own ``str`` order). Every
read treats a record whose ``expiration <= clock.now()`` as absent. Data lives in *spaces*:
independent key spaces named by strings (a KV namespace id, a Durable Object's storage, ...).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Self

from edgekv.clock import SYSTEM_CLOCK, Clock

__all__ = ["LOCAL_ACCOUNT_ID", "NamespaceInfo", "Record", "Store", "prefix_upper_bound"]

#: The account that owns namespaces nobody created through the API: those of a wrangler
#: config in ``edgekv dev``, and stores written before accounts existed. 32 hex digits like
#: every Cloudflare account id.
LOCAL_ACCOUNT_ID = "edeed0000000000000000000000000c1"


class Record(NamedTuple):
    """One stored entry. ``value`` is ``None`` when a scan did not ask for values.

    A named tuple rather than a dataclass: a 1000-key list page builds 1000 of them, and a
    tuple is built in C from the database row (bench/kv_ops.py, "list page").
    """

    key: str
    value: bytes | None
    expiration: int | None = None  # absolute, seconds since the epoch
    metadata: str | None = None  # JSON text


@dataclass(frozen=True, slots=True)
class NamespaceInfo:
    """A registered KV namespace: its 32-hex id, its title (unique in its account) and the
    account that owns it."""

    id: str
    title: str
    account_id: str = LOCAL_ACCOUNT_ID


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``.

    ``None`` when there is none (the prefix is all U+10FFFF). Code-point order equals UTF-8
    byte order, so the bound is valid for SQLite's BINARY collation too.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:  # surrogates cannot be stored; skip the block
                nxt = 0xE000
            return "".join(chars) + chr(nxt)
    return None


class Store(abc.ABC):
    """An async key-value engine. Implementations must be safe to close twice."""

    clock: Clock

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SYSTEM_CLOCK

    # -- entries -----------------------------------------------------------------------

    @abc.abstractmethod
    async def get(self, space: str, key: str) -> Record | None:
        """The live record for ``key``, or ``None`` if it is missing or expired."""

    @abc.abstractmethod
    async def get_many(self, space: str, keys: Sequence[str]) -> dict[str, Record]:
        """Live records for those of ``keys`` that exist (missing keys are left out)."""

    @abc.abstractmethod
    async def put(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> None:
        """Store ``key``, replacing any earlier value, expiration and metadata. Durable on return."""

    @abc.abstractmethod
    async def delete(self, space: str, key: str) -> bool:
        """Remove ``key``; ``True`` if a live record was removed."""

    @abc.abstractmethod
    async def write_batch(
        self, space: str, puts: Iterable[Record] = (), deletes: Iterable[str] = ()
    ) -> None:
        """Apply ``deletes`` then ``puts`` atomically: all of them are stored, or none.

        ``puts`` may be a lazy iterator; it is consumed once (possibly in a worker thread),
        and if it raises, nothing is stored and the exception propagates.
        """

    @abc.abstractmethod
    async def scan(
        self,
        space: str,
        *,
        prefix: str = "",
        start: str | None = None,
        start_after: str | None = None,
        end: str | None = None,
        reverse: bool = False,
        limit: int | None = None,
        values: bool = False,
    ) -> list[Record]:
        """Live records in key order (descending if ``reverse``).

        Keys start with ``prefix``, are ``>= start``, ``> start_after`` and ``< end`` (each
        bound optional). ``values=False`` leaves ``Record.value`` as ``None``.
        """

    async def scan_keys(
        self, space: str, *, prefix: str = "", start_after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, int | None, str | None]]:
        """``(key, expiration, metadata)`` of live records in key order: a keys-only ``scan``
        without building records, for list pages (the hot path of ``KVNamespace.list``)."""
        records = await self.scan(space, prefix=prefix, start_after=start_after, limit=limit)
        return [(r.key, r.expiration, r.metadata) for r in records]

    async def count(self, space: str, *, prefix: str = "") -> int:
        """How many live records ``space`` holds (keys starting with ``prefix``).

        O(number of records): callers that show it often cache it (the data explorer does).
        This default pages through ``scan_keys``; backends override it with a native count.
        """
        total = 0
        after: str | None = None
        while True:
            page = await self.scan_keys(space, prefix=prefix, start_after=after, limit=1000)
            total += len(page)
            if len(page) < 1000:
                return total
            after = page[-1][0]

    @abc.abstractmethod
    async def drop_space(self, space: str) -> None:
        """Delete every record of ``space``."""

    @abc.abstractmethod
    async def purge_expired(self) -> int:
        """Physically remove expired records of every space; returns how many."""

    # -- KV namespace registry -----------------------------------------------------------

    @abc.abstractmethod
    async def create_namespace(
        self, namespace_id: str, title: str, account_id: str = LOCAL_ACCOUNT_ID
    ) -> NamespaceInfo:
        """Register a namespace in ``account_id``. Raises ``NamespaceTitleExists`` if the
        account already has that title, ``StorageError`` if the id is registered."""

    @abc.abstractmethod
    async def list_namespaces(self, account_id: str | None = None) -> list[NamespaceInfo]:
        """The namespaces of ``account_id`` (every account's with ``None``), ordered by
        title (then id)."""

    @abc.abstractmethod
    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        """The namespace with that id, or ``None``."""

    @abc.abstractmethod
    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        """Change a title. Raises ``NamespaceNotFound``, or ``NamespaceTitleExists`` when the
        namespace's account has another namespace with that title."""

    @abc.abstractmethod
    async def delete_namespace(self, namespace_id: str) -> None:
        """Unregister a namespace and delete its keys. Raises ``NamespaceNotFound``."""

    async def ensure_namespace(
        self, namespace_id: str, title: str | None = None, account_id: str = LOCAL_ACCOUNT_ID
    ) -> NamespaceInfo:
        """Return the namespace, registering it (titled ``title`` or its id) if it is new."""
        found = await self.get_namespace(namespace_id)
        if found is not None:
            return found
        return await self.create_namespace(namespace_id, title or namespace_id, account_id)

    # -- lifecycle -----------------------------------------------------------------------

    @abc.abstractmethod
    async def close(self) -> None:
        """Release resources. Idempotent."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _alive(self, expiration: int | None) -> bool:
        return expiration is None or expiration > self.clock.now()
