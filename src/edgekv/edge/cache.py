"""``EdgeCache``: what one location holds, bounded by bytes, least recently used out first.

An entry is the answer the store gave for one key at ``fetched_at``: a record, or ``None``
for a key that was missing (a *negative* entry, cached too, as Workers KV does). It stays
fresh for ``ttl`` seconds (the reader's ``cacheTtl``). The cache also remembers, per key, the
newest change announced by invalidation notices, so that a store read that started before a
notice cannot put the older answer back afterwards (see ``admits``).

Memory is charged per entry as key + value + metadata bytes plus a fixed overhead. With a
``DiskTier``, values above ``disk_threshold_bytes`` live in the local SQLite file and only
their index entry is charged to memory; the file has its own byte bound.
"""

from __future__ import annotations

import enum
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final, Literal

from edgekv.edge.disk import DiskTier
from edgekv.storage.base import Record

__all__ = ["ENTRY_OVERHEAD_BYTES", "VANISHED", "EdgeCache", "Entry"]

#: Bytes charged per entry on top of its key, value and metadata: the Python objects that
#: hold it. Measured with tracemalloc over 20,000 entries: about 270 bytes for the entry,
#: its key tuple and its LRU slot, plus about 70 for the record tuple.
ENTRY_OVERHEAD_BYTES = 340

#: How many announced versions are remembered (the newest keys); older ones are forgotten,
#: which only costs the race protection for a key whose notice is that old.
_MAX_NOTICES = 100_000


class _Vanished(enum.Enum):
    VANISHED = "vanished"


#: What ``EdgeCache.record_of`` answers when an entry's value left the disk tier meanwhile.
VANISHED: Final = _Vanished.VANISHED


@dataclass(slots=True, eq=False)
class Entry:
    """One cached answer. ``record`` is ``None`` for a cached miss; when ``on_disk`` its
    ``value`` is ``None`` and the bytes are in the disk tier."""

    space: str
    key: str
    record: Record | None
    version: int | None
    fetched_at: float
    ttl: float
    size: int = 0  # bytes charged to memory
    disk_size: int = 0  # bytes charged to the disk tier (its value, when on_disk)
    on_disk: bool = False
    hits: int = 0  # reads served from this entry since it was fetched
    jitter: float = field(default=0.0)  # uniform in [0, 1): this entry's refill slot

    def fresh(self, now: float) -> bool:
        """Within its cache TTL."""
        return now < self.fetched_at + self.ttl

    def expired(self, now: float) -> bool:
        """Its record's own expiration has passed: it must never be served again."""
        record = self.record
        return record is not None and record.expiration is not None and record.expiration <= now

    def ttl_left(self, now: float) -> float:
        return self.fetched_at + self.ttl - now


class EdgeCache:
    """A byte-bounded LRU of entries, with an optional SQLite tier for large values."""

    def __init__(
        self,
        *,
        max_bytes: int = 64 * 1024 * 1024,
        disk: DiskTier | None = None,
        disk_threshold_bytes: int = 64 * 1024,
        max_disk_bytes: int = 1024 * 1024 * 1024,
        rng: random.Random | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.disk = disk
        self.disk_threshold_bytes = disk_threshold_bytes
        self.max_disk_bytes = max_disk_bytes
        self._rng = rng or random.Random()
        self._memory: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._on_disk: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self.bytes_used = 0
        self.disk_bytes_used = 0
        self.evictions = 0
        self._tick = 0  # counts notices and local writes; see admits()
        self._notices: OrderedDict[tuple[str, str], tuple[int | None, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._memory) + len(self._on_disk)

    # -- lookups --------------------------------------------------------------------------

    def get(self, space: str, key: str) -> Entry | None:
        """The entry for ``key`` (fresh or not), marked most recently used."""
        k = (space, key)
        entry = self._memory.get(k)
        if entry is not None:
            self._memory.move_to_end(k)
            return entry
        entry = self._on_disk.get(k)
        if entry is not None:
            self._on_disk.move_to_end(k)
        return entry

    def peek(self, space: str, key: str) -> Entry | None:
        """The entry for ``key`` without touching its recency (for inspection)."""
        k = (space, key)
        return self._memory.get(k) or self._on_disk.get(k)

    async def record_of(self, entry: Entry) -> Record | None | Literal[_Vanished.VANISHED]:
        """The record an entry answers with; ``VANISHED`` when its value has left the disk
        tier (evicted meanwhile): the caller treats that as a miss."""
        if not entry.on_disk or entry.record is None:
            return entry.record
        assert self.disk is not None
        value = await self.disk.read(entry.space, entry.key)
        if value is None:
            return VANISHED
        return entry.record._replace(value=value)

    # -- changes --------------------------------------------------------------------------

    async def store(
        self, space: str, key: str, record: Record | None, version: int | None, ttl: float, now: float
    ) -> Entry | None:
        """Cache an answer (replacing any entry for the key). Returns the entry, or ``None``
        when it is larger than the cache could ever hold."""
        self.discard(space, key)
        value_size = len(record.value or b"") if record is not None else 0
        meta_size = len(record.metadata or "") if record is not None else 0
        base = len(key) + meta_size + ENTRY_OVERHEAD_BYTES
        entry = Entry(space, key, record, version, now, ttl, jitter=self._rng.random())
        if self.disk is not None and record is not None and value_size > self.disk_threshold_bytes:
            if value_size > self.max_disk_bytes or base > self.max_bytes:
                return None
            await self.disk.write(space, key, record.value or b"")
            self.discard(space, key)  # another store of this key may have finished meanwhile
            entry.record = record._replace(value=None)
            entry.on_disk = True
            entry.size = base  # its index entry stays in memory
            entry.disk_size = value_size
            self._on_disk[(space, key)] = entry
            self.disk_bytes_used += value_size
            self.bytes_used += base
            self._evict()
            return entry
        entry.size = base + value_size
        if entry.size > self.max_bytes:
            return None
        self._memory[(space, key)] = entry
        self.bytes_used += entry.size
        self._evict()
        return entry

    def discard(self, space: str, key: str) -> bool:
        """Forget ``key``; ``True`` if an entry was held."""
        k = (space, key)
        entry = self._memory.pop(k, None)
        if entry is not None:
            self.bytes_used -= entry.size
            return True
        entry = self._on_disk.pop(k, None)
        if entry is None:
            return False
        self._forget_disk_entry(entry)
        return True

    def discard_space(self, space: str) -> int:
        """Forget every entry of ``space``; returns how many."""
        keys = [k for k in (*self._memory, *self._on_disk) if k[0] == space]
        for space_name, key in keys:
            self.discard(space_name, key)
        return len(keys)

    def clear(self) -> int:
        """Forget everything (after a lost invalidation stream); returns how many."""
        count = len(self)
        self._memory.clear()
        self._on_disk.clear()
        self.bytes_used = self.disk_bytes_used = 0
        if self.disk is not None:
            self.disk.clear()
        return count

    def _forget_disk_entry(self, entry: Entry) -> None:
        self.disk_bytes_used -= entry.disk_size
        self.bytes_used -= entry.size
        if self.disk is not None:
            self.disk.discard(entry.space, entry.key)

    def _evict(self) -> None:
        while self.disk_bytes_used > self.max_disk_bytes and self._on_disk:
            _, entry = self._on_disk.popitem(last=False)
            self._forget_disk_entry(entry)
            self.evictions += 1
        while self.bytes_used > self.max_bytes and (self._memory or self._on_disk):
            # Memory also holds the index entries of disk values: values in memory go first.
            if self._memory:
                _, entry = self._memory.popitem(last=False)
                self.bytes_used -= entry.size
            else:
                _, entry = self._on_disk.popitem(last=False)
                self._forget_disk_entry(entry)
            self.evictions += 1

    # -- notices and the race they guard against ------------------------------------------

    @property
    def tick(self) -> int:
        """A counter of notices and local writes; take it before a store read."""
        return self._tick

    def note_change(self, space: str, key: str, version: int | None) -> None:
        """Remember that ``key`` changed (a notice, or this location's own write), so that
        reads started earlier are not admitted afterwards."""
        self._tick += 1
        k = (space, key)
        previous = self._notices.pop(k, None)
        if previous is not None and previous[0] is not None and version is not None:
            version = max(version, previous[0])
        self._notices[k] = (version, self._tick)
        if len(self._notices) > _MAX_NOTICES:
            self._notices.popitem(last=False)

    def admits(self, space: str, key: str, version: int | None, since_tick: int) -> bool:
        """May an answer read from the store (a read that started at ``since_tick``) be
        cached? Not if it is older than an announced change: with versions, when its version
        is below the newest announced one; without, when any change was noted since the
        read started (the answer may predate it)."""
        notice = self._notices.get((space, key))
        if notice is None:
            return True
        announced, at_tick = notice
        if version is not None and announced is not None:
            return version >= announced
        return at_tick <= since_tick

    def invalidate(self, space: str, key: str, version: int | None) -> bool:
        """Apply a notice: drop the entry unless it already holds ``version`` or newer.
        Returns whether an entry was dropped."""
        self.note_change(space, key, version)
        entry = self.peek(space, key)
        if entry is None:
            return False
        if version is not None and entry.version is not None and entry.version >= version:
            return False
        return self.discard(space, key)
