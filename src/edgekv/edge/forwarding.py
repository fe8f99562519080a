"""``ForwardingStore``: a store that hands every call to an inner store.

The base of the stores that wrap another one (versioning, the edge cache, the simulated
network link, fault injection in tests): each overrides only what it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from edgekv.storage.base import LOCAL_ACCOUNT_ID, NamespaceInfo, Record, Store

__all__ = ["ForwardingStore"]


class ForwardingStore(Store):
    """Forwards every ``Store`` call to ``inner``; shares its clock. ``close`` closes
    ``inner`` (a wrapper owns what it wraps)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner.clock)
        self.inner = inner

    async def get(self, space: str, key: str) -> Record | None:
        return await self.inner.get(space, key)

    async def get_many(self, space: str, keys: Sequence[str]) -> dict[str, Record]:
        return await self.inner.get_many(space, keys)

    async def put(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> None:
        await self.inner.put(space, key, value, expiration=expiration, metadata=metadata)

    async def delete(self, space: str, key: str) -> bool:
        return await self.inner.delete(space, key)

    async def write_batch(
        self, space: str, puts: Iterable[Record] = (), deletes: Iterable[str] = ()
    ) -> None:
        await self.inner.write_batch(space, puts, deletes)

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
        return await self.inner.scan(
            space, prefix=prefix, start=start, start_after=start_after, end=end,
            reverse=reverse, limit=limit, values=values,
        )

    async def scan_keys(
        self, space: str, *, prefix: str = "", start_after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, int | None, str | None]]:
        return await self.inner.scan_keys(space, prefix=prefix, start_after=start_after, limit=limit)

    async def drop_space(self, space: str) -> None:
        await self.inner.drop_space(space)

    async def purge_expired(self) -> int:
        return await self.inner.purge_expired()

    async def create_namespace(
        self, namespace_id: str, title: str, account_id: str = LOCAL_ACCOUNT_ID
    ) -> NamespaceInfo:
        return await self.inner.create_namespace(namespace_id, title, account_id)

    async def list_namespaces(self, account_id: str | None = None) -> list[NamespaceInfo]:
        return await self.inner.list_namespaces(account_id)

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        return await self.inner.get_namespace(namespace_id)

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        return await self.inner.rename_namespace(namespace_id, title)

    async def delete_namespace(self, namespace_id: str) -> None:
        await self.inner.delete_namespace(namespace_id)

    async def close(self) -> None:
        await self.inner.close()
