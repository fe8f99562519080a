"""``LocalKV``: the project's local KV store, opened in process.

This is the same SQLite file ``edgekv dev`` serves (``<state>/kv.sqlite3``), so what the CLI
writes is what the running Worker reads. SQLite's locking lets both run at once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Self

from edgekv.clock import Clock
from edgekv.errors import NamespaceNotFound
from edgekv.kv import KVNamespace
from edgekv.limits import DEFAULT_LIMITS, Limits
from edgekv.storage import NamespaceInfo, Record, Store, open_store

__all__ = ["LocalKV"]

_PAGE = 1000


class LocalKV:
    """Namespaces and keys of one local store. Use as ``async with LocalKV(url) as local``."""

    def __init__(self, url: str, *, limits: Limits = DEFAULT_LIMITS, clock: Clock | None = None) -> None:
        self.url = url
        self.limits = limits
        self._store: Store = open_store(url, clock=clock)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._store.close()

    @property
    def store(self) -> Store:
        return self._store

    def namespace(self, namespace_id: str) -> KVNamespace:
        """The KV binding of ``namespace_id`` (registered or not: bindings need no registry)."""
        return KVNamespace(self._store, namespace_id, limits=self.limits)

    # -- namespaces ------------------------------------------------------------------------

    async def create_namespace(self, title: str) -> NamespaceInfo:
        """Register a namespace with a fresh 32-hex id. Raises ``NamespaceTitleExists``."""
        return await self._store.create_namespace(uuid.uuid4().hex, title)

    async def list_namespaces(self) -> list[NamespaceInfo]:
        return await self._store.list_namespaces()

    async def namespace_by_title(self, title: str) -> NamespaceInfo | None:
        return next((ns for ns in await self._store.list_namespaces() if ns.title == title), None)

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        return await self._store.rename_namespace(namespace_id, title)

    async def delete_namespace(self, namespace_id: str) -> None:
        """Delete a namespace's keys, and its registry entry if it has one."""
        try:
            await self._store.delete_namespace(namespace_id)
        except NamespaceNotFound:
            await self._store.drop_space(namespace_id)

    # -- keys ------------------------------------------------------------------------------

    async def iter_records(
        self, namespace_id: str, *, prefix: str = "", values: bool = False
    ) -> AsyncIterator[Record]:
        """Every live record in key order, fetched a page at a time (flat memory)."""
        after: str | None = None
        while True:
            page = await self._store.scan(
                namespace_id, prefix=prefix, start_after=after, limit=_PAGE, values=values
            )
            for record in page:
                yield record
            if len(page) < _PAGE:
                return
            after = page[-1].key

    async def put_records(self, namespace_id: str, records: Iterable[Record]) -> None:
        """Store validated records atomically; ``records`` may be a lazy iterator, and if it
        raises nothing is stored."""
        await self._store.write_batch(namespace_id, records)

    async def delete_keys(self, namespace_id: str, keys: Iterable[str]) -> None:
        """Delete ``keys`` atomically."""
        await self._store.write_batch(namespace_id, (), keys)

    async def get_records(self, namespace_id: str, keys: list[str]) -> dict[str, Record]:
        return await self._store.get_many(namespace_id, keys)
