"""Where an object's key-value data lives: two interchangeable backends, named for the place.

- ``EngineSpaceBackend`` (KV-backed classes, ``new_classes``): one space of the storage engine
  every object shares (``do.sqlite3`` or PostgreSQL), ``do:<unique key>:<id hex>``.
- ``ObjectSqliteBackend`` (``new_sqlite_classes``): the ``_cf_KV`` table of the object's own
  SQLite file, so that ``deleteAll`` wipes SQL and KV data together and ``transactionSync``
  covers both.

Both take already-encoded bytes and already-validated keys; ranges are ``start`` inclusive and
``end`` exclusive (``None`` = unbounded), keys ordered by UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from edgekv.durable_objects.database import ObjectDatabase, is_busy
from edgekv.durable_objects.errors import DurableObjectError
from edgekv.storage.base import Record, Store

__all__ = ["EngineSpaceBackend", "KeyValueBackend", "ObjectSqliteBackend"]

T = TypeVar("T")


class KeyValueBackend(Protocol):
    """The operations ``ctx.storage`` needs from a backend."""

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]: ...

    async def write(self, puts: Sequence[tuple[str, bytes]], deletes: Sequence[str]) -> None:
        """Apply ``deletes`` then ``puts`` atomically."""

    async def delete_many(self, keys: Sequence[str]) -> int:
        """Delete ``keys``; return how many existed."""

    async def scan(
        self, start: str, end: str | None, reverse: bool, limit: int | None
    ) -> list[tuple[str, bytes]]: ...

    async def delete_all(self) -> None: ...

    def close(self) -> None: ...


class EngineSpaceBackend:
    """KV data in one space of the storage engine."""

    __slots__ = ("_space", "_store")

    def __init__(self, store: Store, space: str) -> None:
        self._store = store
        self._space = space

    async def get(self, key: str) -> bytes | None:
        record = await self._store.get(self._space, key)
        return None if record is None else record.value

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        found = await self._store.get_many(self._space, keys)
        return {key: record.value or b"" for key, record in found.items()}

    async def write(self, puts: Sequence[tuple[str, bytes]], deletes: Sequence[str]) -> None:
        if len(puts) == 1 and not deletes:
            key, value = puts[0]
            await self._store.put(self._space, key, value)
            return
        await self._store.write_batch(
            self._space, [Record(key, value) for key, value in puts], deletes
        )

    async def delete_many(self, keys: Sequence[str]) -> int:
        if len(keys) == 1:
            return int(await self._store.delete(self._space, keys[0]))
        unique = list(dict.fromkeys(keys))
        existing = await self._store.get_many(self._space, unique)
        if existing:
            await self._store.write_batch(self._space, (), list(existing))
        return len(existing)

    async def scan(
        self, start: str, end: str | None, reverse: bool, limit: int | None
    ) -> list[tuple[str, bytes]]:
        records = await self._store.scan(
            self._space, start=start, end=end, reverse=reverse, limit=limit, values=True
        )
        return [(r.key, r.value or b"") for r in records]

    async def delete_all(self) -> None:
        await self._store.drop_space(self._space)

    def close(self) -> None:
        """Nothing to release: the engine belongs to the runtime."""


class ObjectSqliteBackend:
    """KV data in the object's own SQLite file (``_cf_KV``).

    The file never blocks the loop (``ObjectDatabase`` waits for no lock inline): an
    operation that finds it locked by another process waits with ``wait_unlocked`` (the
    loop free) and is tried once more, so the caller sees ``SQLITE_BUSY`` only after
    ``LOCK_WAIT_SECONDS``.
    """

    __slots__ = ("db",)

    def __init__(self, db: ObjectDatabase) -> None:
        self.db = db

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except DurableObjectError as exc:
            if not is_busy(exc):
                raise
        await self.db.wait_unlocked()
        return fn(*args)

    async def get(self, key: str) -> bytes | None:
        return await self._call(self.db.kv_get, key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        return await self._call(self.db.kv_get_many, keys)

    async def write(self, puts: Sequence[tuple[str, bytes]], deletes: Sequence[str]) -> None:
        await self._call(self.db.kv_write, puts, deletes)

    async def delete_many(self, keys: Sequence[str]) -> int:
        return await self._call(self.db.kv_delete_many, keys)

    async def scan(
        self, start: str, end: str | None, reverse: bool, limit: int | None
    ) -> list[tuple[str, bytes]]:
        return await self._call(self.db.kv_scan, start, end, reverse, limit)

    async def delete_all(self) -> None:
        self.db.wipe()

    def close(self) -> None:
        self.db.close()
