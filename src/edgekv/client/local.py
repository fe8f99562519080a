"""``LocalKV``: the project's local KV store, opened in process.

This is the same SQLite file ``edgekv dev`` serves (``<state>/kv.sqlite3``), so what the CLI
writes is what the running Worker reads. SQLite's locking lets both run at once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal

from edgekv.client.kvclient import KVClient, Progress
from edgekv.clock import Clock
from edgekv.config import Config
from edgekv.errors import NamespaceNotFound, NamespaceTitleExists
from edgekv.kv import KVNamespace
from edgekv.kv.validation import check_key
from edgekv.limits import DEFAULT_LIMITS, Limits
from edgekv.storage import LOCAL_ACCOUNT_ID, NamespaceInfo, Record, Store, open_store

__all__ = ["LocalKV"]

_PAGE = 1000
_BULK_GET = 100  # the binding's bulk read limit


class LocalKV(KVClient):
    """Namespaces and keys of one local store. Use as ``async with LocalKV(url) as local``."""

    location: Literal["local", "remote"] = "local"

    def __init__(self, url: str, *, limits: Limits = DEFAULT_LIMITS, clock: Clock | None = None,
                 config: Config | None = None) -> None:
        self.config = config
        self.url = url
        self.limits = limits
        self._store: Store = open_store(url, clock=clock)

    async def close(self) -> None:
        await self._store.close()

    @property
    def store(self) -> Store:
        return self._store

    def namespace(self, namespace_id: str) -> KVNamespace:
        """The KV binding of ``namespace_id`` (registered or not: bindings need no registry)."""
        return KVNamespace(self._store, namespace_id, limits=self.limits)

    def validator(self, namespace_id: str) -> KVNamespace:
        return self.namespace(namespace_id)

    # -- namespaces ------------------------------------------------------------------------

    async def create_namespace(self, title: str) -> NamespaceInfo:
        """Register a namespace with a fresh 32-hex id. Raises ``NamespaceTitleExists``."""
        return await self._store.create_namespace(uuid.uuid4().hex, title)

    async def list_namespaces(self) -> list[NamespaceInfo]:
        """The registered namespaces, plus those the config names that are not registered
        yet (shown as ``register_config`` would register them; nothing is written)."""
        registered = await self._store.list_namespaces()
        if self.config is None:
            return registered
        known = {ns.id for ns in registered}
        found = registered + [ns for ns in config_namespaces(self.config) if ns.id not in known]
        return sorted(found, key=lambda ns: (ns.title, ns.id))

    async def rename_namespace(self, namespace_id: str, title: str) -> None:
        await self._store.rename_namespace(namespace_id, title)

    async def delete_namespace(self, namespace_id: str) -> None:
        """Delete a namespace's keys, and its registry entry if it has one."""
        try:
            await self._store.delete_namespace(namespace_id)
        except NamespaceNotFound:
            await self._store.drop_space(namespace_id)

    async def _registered(self, namespace_id: str) -> None:
        """Register a namespace that received data (titled by its id, in the local account)
        so ``namespace list`` and the API show it, as every namespace with data should be."""
        if await self._store.get_namespace(namespace_id) is not None:
            return
        named = {ns.id: ns.title for ns in config_namespaces(self.config)} if self.config else {}
        title = named.get(namespace_id, namespace_id)
        try:
            await self._store.create_namespace(namespace_id, title, LOCAL_ACCOUNT_ID)
        except NamespaceTitleExists:
            await self._store.create_namespace(namespace_id, f"{title} ({namespace_id})",
                                               LOCAL_ACCOUNT_ID)

    # -- keys ------------------------------------------------------------------------------

    async def put(self, namespace_id: str, key: str, value: bytes | str, *,
                  expiration: int | None = None, expiration_ttl: int | None = None,
                  metadata: Any = None) -> None:
        options: dict[str, Any] = {}
        if expiration_ttl is not None:
            options["expirationTtl"] = expiration_ttl
        if expiration is not None:
            options["expiration"] = expiration
        if metadata is not None:
            options["metadata"] = metadata
        await self.namespace(namespace_id).put(key, value, options)
        await self._registered(namespace_id)

    async def get(self, namespace_id: str, key: str) -> Record | None:
        check_key(key, "GET", self.limits)
        return await self._store.get(namespace_id, key)

    async def get_with_metadata(self, namespace_id: str, key: str) -> Record | None:
        return await self.get(namespace_id, key)

    async def list_keys(self, namespace_id: str, prefix: str = "") -> AsyncIterator[Record]:
        async for record in self.iter_records(namespace_id, prefix=prefix):
            yield record

    async def delete(self, namespace_id: str, key: str) -> None:
        await self.namespace(namespace_id).delete(key)

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

    # -- bulk ------------------------------------------------------------------------------

    async def put_bulk(self, namespace_id: str, records: Iterable[Record], *,
                       progress: Progress | None = None) -> int:
        """One transaction: if ``records`` raises, nothing is stored."""
        count = 0

        def counted() -> Iterable[Record]:
            nonlocal count
            for record in records:
                count += 1
                yield record

        await self._store.write_batch(namespace_id, counted())
        await self._registered(namespace_id)
        return count

    async def get_bulk(self, namespace_id: str, keys: list[str]) -> dict[str, bytes | None]:
        result: dict[str, bytes | None] = {}
        for start in range(0, len(keys), _BULK_GET):
            chunk = keys[start : start + _BULK_GET]
            for k in chunk:
                check_key(k, "GET", self.limits)
            found = await self._store.get_many(namespace_id, chunk)
            for k in chunk:
                record = found.get(k)
                result[k] = None if record is None else (record.value or b"")
        return result

    async def delete_bulk(self, namespace_id: str, keys: list[str], *,
                          progress: Progress | None = None) -> None:
        """Atomic: every key is checked, then all are deleted in one transaction."""
        for k in keys:
            check_key(k, "DELETE", self.limits)
        await self._store.write_batch(namespace_id, (), keys)

    async def export(self, namespace_id: str, prefix: str = "") -> AsyncIterator[Record]:
        async for record in self.iter_records(namespace_id, prefix=prefix, values=True):
            yield record

    # -- kept for callers of the first LocalKV ---------------------------------------------

    async def put_records(self, namespace_id: str, records: Iterable[Record]) -> None:
        """Store validated records atomically (``put_bulk`` without the count)."""
        await self._store.write_batch(namespace_id, records)
        await self._registered(namespace_id)

    async def delete_keys(self, namespace_id: str, keys: Iterable[str]) -> None:
        """Delete ``keys`` atomically, unchecked."""
        await self._store.write_batch(namespace_id, (), keys)

    async def get_records(self, namespace_id: str, keys: list[str]) -> dict[str, Record]:
        return await self._store.get_many(namespace_id, keys)


def config_namespaces(config: Config) -> list[NamespaceInfo]:
    """The KV namespaces ``config`` names, titled by binding name (``<binding>_preview`` for
    a preview id, as wrangler titles preview namespaces), in the local account."""
    found: dict[str, NamespaceInfo] = {}
    for kv in config.kv_namespaces:
        main_id = kv.local_id(preview=False)
        for namespace_id in (main_id, kv.local_id(preview=True)):
            title = kv.binding if namespace_id == main_id else f"{kv.binding}_preview"
            found.setdefault(namespace_id, NamespaceInfo(namespace_id, title, LOCAL_ACCOUNT_ID))
    return list(found.values())


async def register_config_namespaces(store: Store, config: Config) -> None:
    """Register the KV namespaces of ``config`` (see ``config_namespaces``) so the API lists
    them. Namespaces already registered are left alone; a title already taken gets the id
    appended."""
    for info in config_namespaces(config):
        if await store.get_namespace(info.id) is not None:
            continue
        try:
            await store.create_namespace(info.id, info.title, LOCAL_ACCOUNT_ID)
        except NamespaceTitleExists:
            await store.create_namespace(info.id, f"{info.title} ({info.id})", LOCAL_ACCOUNT_ID)
