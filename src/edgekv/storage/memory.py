"""``memory://``: a process-local store, for tests and throwaway namespaces."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from edgekv.clock import Clock
from edgekv.errors import NamespaceNotFound, NamespaceTitleExists, StorageError
from edgekv.storage.base import LOCAL_ACCOUNT_ID, NamespaceInfo, Record, Store, prefix_upper_bound

__all__ = ["MemoryStore"]


class _Space:
    """One key space: a dict for lookups plus a sorted key list for ordered scans."""

    __slots__ = ("keys", "records")

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.keys: list[str] = []

    def put(self, record: Record) -> None:
        if record.key not in self.records:
            bisect.insort(self.keys, record.key)
        self.records[record.key] = record

    def remove(self, key: str) -> Record | None:
        record = self.records.pop(key, None)
        if record is not None:
            del self.keys[bisect.bisect_left(self.keys, key)]
        return record


class MemoryStore(Store):
    """Keeps everything in dictionaries; nothing survives the process."""

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._spaces: dict[str, _Space] = {}
        self._namespaces: dict[str, NamespaceInfo] = {}

    def _space(self, name: str) -> _Space:
        space = self._spaces.get(name)
        if space is None:
            space = self._spaces[name] = _Space()
        return space

    def _live(self, space: str, key: str) -> Record | None:
        found = self._spaces.get(space)
        record = found.records.get(key) if found else None
        if record is None or not self._alive(record.expiration):
            return None
        return record

    async def get(self, space: str, key: str) -> Record | None:
        return self._live(space, key)

    async def get_many(self, space: str, keys: Sequence[str]) -> dict[str, Record]:
        found = {}
        for key in keys:
            record = self._live(space, key)
            if record is not None:
                found[key] = record
        return found

    async def put(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> None:
        self._space(space).put(Record(key, bytes(value), expiration, metadata))

    async def delete(self, space: str, key: str) -> bool:
        alive = self._live(space, key) is not None
        found = self._spaces.get(space)
        if found:
            found.remove(key)
        return alive

    async def write_batch(
        self, space: str, puts: Iterable[Record] = (), deletes: Iterable[str] = ()
    ) -> None:
        # Convert everything before touching the space: a bad record (a value that is not
        # bytes) must raise before any delete or put is applied, so the batch is all or nothing.
        records = [
            Record(r.key, bytes(r.value or b""), r.expiration, r.metadata) for r in puts
        ]
        keys = list(deletes)
        target = self._space(space)
        for key in keys:
            target.remove(key)
        for record in records:
            target.put(record)

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
        found = self._spaces.get(space)
        if found is None or (limit is not None and limit <= 0):  # as SqliteStore
            return []
        keys = found.keys
        lo = bisect.bisect_left(keys, prefix)
        if start is not None:
            lo = max(lo, bisect.bisect_left(keys, start))
        if start_after is not None:
            lo = max(lo, bisect.bisect_right(keys, start_after))
        hi = len(keys)
        upper = prefix_upper_bound(prefix) if prefix else None
        if upper is not None:
            hi = min(hi, bisect.bisect_left(keys, upper))
        if end is not None:
            hi = min(hi, bisect.bisect_left(keys, end))
        indices = range(hi - 1, lo - 1, -1) if reverse else range(lo, hi)
        out: list[Record] = []
        for i in indices:
            record = found.records[keys[i]]
            if not self._alive(record.expiration):
                continue
            out.append(record if values else Record(record.key, None, record.expiration, record.metadata))
            if limit is not None and len(out) >= limit:
                break
        return out

    async def drop_space(self, space: str) -> None:
        self._spaces.pop(space, None)

    async def purge_expired(self) -> int:
        removed = 0
        for space in self._spaces.values():
            for key in [k for k, r in space.records.items() if not self._alive(r.expiration)]:
                space.remove(key)
                removed += 1
        return removed

    async def create_namespace(
        self, namespace_id: str, title: str, account_id: str = LOCAL_ACCOUNT_ID
    ) -> NamespaceInfo:
        if namespace_id in self._namespaces:  # as SqliteStore: an id is registered once
            raise StorageError(f"a KV namespace with id {namespace_id!r} already exists")
        if any(ns.title == title and ns.account_id == account_id
               for ns in self._namespaces.values()):
            raise NamespaceTitleExists(title)
        info = self._namespaces[namespace_id] = NamespaceInfo(namespace_id, title, account_id)
        return info

    async def list_namespaces(self, account_id: str | None = None) -> list[NamespaceInfo]:
        found = [ns for ns in self._namespaces.values()
                 if account_id is None or ns.account_id == account_id]
        return sorted(found, key=lambda ns: (ns.title, ns.id))

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        return self._namespaces.get(namespace_id)

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        old = self._namespaces.get(namespace_id)
        if old is None:
            raise NamespaceNotFound(namespace_id)
        if any(ns.title == title and ns.id != namespace_id and ns.account_id == old.account_id
               for ns in self._namespaces.values()):
            raise NamespaceTitleExists(title)
        info = self._namespaces[namespace_id] = NamespaceInfo(namespace_id, title, old.account_id)
        return info

    async def delete_namespace(self, namespace_id: str) -> None:
        if self._namespaces.pop(namespace_id, None) is None:
            raise NamespaceNotFound(namespace_id)
        self._spaces.pop(namespace_id, None)

    async def close(self) -> None:
        return None
