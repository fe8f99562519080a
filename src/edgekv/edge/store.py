"""``CachedStore``: one location's read-through edge cache in front of the central store.

It is a ``Store``, so ``KVNamespace`` and everything else use it unchanged. Reads go through
an ``EdgeCache`` with the reader's ``cacheTtl``; writes go to the central store, then update
this location's cache (read-your-writes where the write was made). ``list`` (``scan``) and
the namespace registry read the store. The contract, with the reasons behind each rule, is
in docs/edge-cache.md; in short:

- a fresh entry (or cached miss) answers at once: ``HIT``; past its TTL it is read again;
- a later read with a lower ``cacheTtl`` shortens the entry; a record whose expiration has
  passed is never served;
- concurrent misses on one key share one store read;
- a popular entry read in the last part of its TTL is refreshed in the background
  (``REVALIDATE``), so hot keys never go cold;
- with the store down, entries past their TTL are served (``STALE``), cold reads and writes
  fail at once with ``StoreUnavailable``; after recovery, each stale entry is refilled at
  its own random moment within ``refill_spread_seconds``, not all at once.

Time: freshness uses the injected clock; the store timeout uses the event loop's time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from edgekv.edge.cache import VANISHED, EdgeCache, Entry
from edgekv.edge.forwarding import ForwardingStore
from edgekv.edge.health import StoreHealth
from edgekv.edge.metrics import EdgeMetrics, render_prometheus
from edgekv.edge.versions import Versioned, VersionedStore
from edgekv.errors import (
    AccountNotFound,
    BackendUnavailable,
    NamespaceNotFound,
    NamespaceTitleExists,
    StorageError,
    StoreUnavailable,
    TokenNotFound,
)
from edgekv.storage.base import LOCAL_ACCOUNT_ID, NamespaceInfo, Record, Store

__all__ = ["HIT", "MISS", "REVALIDATE", "STALE", "CachedStore", "EdgePolicy"]

# The cacheStatus values of Cloudflare's KV observability docs.
HIT: Final = "HIT"  # this location answered from its cache
MISS: Final = "MISS"  # the value came from the central store
REVALIDATE: Final = "REVALIDATE"  # a HIT that also started a background refresh
STALE: Final = "STALE"  # a HIT past its TTL: the store is down, or the refill is deferred

# Errors that say something about the request, not about the store being reachable.
_LOGICAL_ERRORS = (NamespaceNotFound, NamespaceTitleExists, AccountNotFound, TokenNotFound, BackendUnavailable)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EdgePolicy:
    """How a location caches. Times in seconds."""

    default_cache_ttl_seconds: float = 60.0  # a read without cacheTtl (KV's default)
    write_cache_ttl_seconds: float = 60.0  # the writer's own copy of what it wrote
    refresh_ahead_fraction: float = 0.25  # refresh popular keys in the last quarter of TTL
    refresh_min_hits: int = 2  # "popular": read this often since it was fetched
    store_timeout_seconds: float = 5.0  # a store call slower than this counts as a failure
    refill_spread_seconds: float = 30.0  # after recovery, spread stale refills over this
    initial_backoff_seconds: float = 1.0  # breaker: first retry after a failure
    max_backoff_seconds: float = 10.0  # breaker: retries back off up to this
    retry_jitter: float = 0.5  # breaker: each retry waits backoff * uniform(1 -/+ this)
    # Spaces that must stay strongly consistent bypass the cache: accounts and API tokens
    # ("sys:", a revoked token must fail at the next request), Durable Object storage
    # ("do:") and alarms ("do-alarms").
    uncached_prefixes: tuple[str, ...] = ("sys:", "do:", "do-")


class CachedStore(ForwardingStore):
    """A location's edge cache over ``inner``, the authoritative store.

    When ``inner`` implements ``VersionedStore`` the cache keeps versions and ignores
    notices about older changes; otherwise it works TTL-only. ``close`` closes the cache's
    disk tier and, when ``close_inner``, the inner store.
    """

    def __init__(
        self,
        inner: Store,
        *,
        cache: EdgeCache | None = None,
        policy: EdgePolicy | None = None,
        rng: random.Random | None = None,
        close_inner: bool = True,
    ) -> None:
        super().__init__(inner)
        self._rng = rng or random.Random()
        self.cache = cache if cache is not None else EdgeCache(rng=self._rng)
        self.policy = policy or EdgePolicy()
        self.metrics = EdgeMetrics()
        self.health = StoreHealth(
            initial_backoff_seconds=self.policy.initial_backoff_seconds,
            max_backoff_seconds=self.policy.max_backoff_seconds,
            jitter=self.policy.retry_jitter,
            rng=self._rng,
        )
        self._versioned: VersionedStore | None = inner if isinstance(inner, VersionedStore) else None
        self._inflight: dict[tuple[str, str], asyncio.Future[Versioned]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._close_inner = close_inner
        self._closed = False

    # -- reads ----------------------------------------------------------------------------

    async def get(self, space: str, key: str, *, cache_ttl: float | None = None) -> Record | None:
        record, _ = await self.get_with_status(space, key, cache_ttl)
        return record

    async def get_with_status(
        self, space: str, key: str, cache_ttl: float | None = None
    ) -> tuple[Record | None, str]:
        """The record for ``key`` (``None`` when missing) and its cacheStatus. ``cache_ttl``
        is the reader's ``cacheTtl`` (already validated by the caller), default 60 s.
        Raises ``StoreUnavailable`` when the answer needs the store and it is down."""
        if space.startswith(self.policy.uncached_prefixes):
            return await self._call(lambda: self.inner.get(space, key)), MISS
        ttl = self.policy.default_cache_ttl_seconds if cache_ttl is None else cache_ttl
        entry = self.cache.get(space, key)
        if entry is not None:
            status = self._status(entry, ttl, self.clock.now())
            if status is not None:
                record = await self.cache.record_of(entry) if entry.on_disk else entry.record
                if record is not VANISHED:
                    self._count(status)
                    return record, status
        try:
            found = await self._fetch(space, (key,), ttl)
        except StoreUnavailable:
            if entry is None:
                raise
            stale: Record | None = None  # expired: all we know is that the key is gone
            if not entry.expired(self.clock.now()):
                kept = await self.cache.record_of(entry)
                if kept is VANISHED:
                    raise
                stale = kept
            self.metrics.stale_serves += 1
            return stale, STALE
        self.metrics.misses += 1
        return found[key].record, MISS

    def cached_answer(
        self, space: str, key: str, cache_ttl: float | None = None
    ) -> tuple[Record | None, str] | None:
        """``get_with_status`` when the memory tier can answer without any I/O, else
        ``None`` (then call ``get_with_status``). Synchronous: a caller that needs no task
        for a hit (the simulation; a server's fast path) saves one."""
        entry = self.cache.get(space, key)
        if entry is None or entry.on_disk:
            return None
        ttl = self.policy.default_cache_ttl_seconds if cache_ttl is None else cache_ttl
        status = self._status(entry, ttl, self.clock.now())
        if status is None:
            return None
        self._count(status)
        return entry.record, status

    def _status(self, entry: Entry, ttl: float, now: float) -> str | None:
        """The cacheStatus a cached entry answers with, or ``None`` when the store must be
        read. Applies the reader's TTL, counts the hit, starts a background refresh.
        (The hot path of every cached read: kept inline.)"""
        record = entry.record
        if record is not None and record.expiration is not None and record.expiration <= now:
            self.cache.discard(entry.space, entry.key)  # expiration always wins over cacheTtl
            return None
        if ttl < entry.ttl:  # noqa: PLR1730 - a lower cacheTtl on a later read shortens it
            entry.ttl = ttl
        left = entry.fetched_at + entry.ttl - now
        if left > 0:
            entry.hits += 1
            policy = self.policy
            if (
                left < entry.ttl * policy.refresh_ahead_fraction
                and entry.hits >= policy.refresh_min_hits
                and self.health.up
                and (entry.space, entry.key) not in self._inflight
            ):
                self._refresh(entry)  # popular and near its end: refresh it in the background
                return REVALIDATE
            return HIT
        if not self.health.up and now < self.health.retry_at:
            return STALE  # the store is down: serve what we have rather than fail
        if self._refill_deferred(entry, now):
            return STALE  # just recovered: this entry's refill slot has not come yet
        return None

    def _count(self, status: str) -> None:
        if status == STALE:
            self.metrics.stale_serves += 1
        else:
            self.metrics.hits += 1

    def _refill_deferred(self, entry: Entry, now: float) -> bool:
        """After an outage, an entry fetched before the recovery is refilled only once its
        own slot, ``recovered_at + jitter * refill_spread_seconds``, has come."""
        recovered = self.health.recovered_at
        if recovered is None or entry.fetched_at >= recovered:
            return False
        return now < recovered + entry.jitter * self.policy.refill_spread_seconds

    def _refresh(self, entry: Entry) -> None:
        self.refresh_key(entry.space, entry.key, entry.ttl)

    def refresh_key(self, space: str, key: str, ttl: float) -> None:
        """Re-read ``key`` from the store in the background (shared with any read of it
        already under way) and cache the answer for ``ttl`` seconds."""
        self.metrics.revalidations += 1
        self._spawn(self._fetch(space, (key,), ttl))

    async def get_many(
        self, space: str, keys: Sequence[str], *, cache_ttl: float | None = None
    ) -> dict[str, Record]:
        """Live records of those of ``keys`` that exist, each read as ``get_with_status``
        would; the keys not answered by the cache are read from the store in one call."""
        if space.startswith(self.policy.uncached_prefixes):
            return await self._call(lambda: self.inner.get_many(space, keys))
        ttl = self.policy.default_cache_ttl_seconds if cache_ttl is None else cache_ttl
        now = self.clock.now()
        result: dict[str, Record] = {}
        wanted: list[str] = []
        held: dict[str, Entry] = {}
        for key in keys:
            entry = self.cache.get(space, key)
            if entry is not None:
                status = self._status(entry, ttl, now)
                if status is not None:
                    record = await self.cache.record_of(entry) if entry.on_disk else entry.record
                    if record is not VANISHED:
                        self._count(status)
                        if record is not None:
                            result[key] = record
                        continue
                held[key] = entry
            wanted.append(key)
        if not wanted:
            return result
        try:
            found = await self._fetch(space, wanted, ttl)
        except StoreUnavailable:
            if not all(k in held for k in wanted):
                raise
            now = self.clock.now()
            for key in wanted:  # every key has an entry: serve them stale
                entry = held[key]
                self.metrics.stale_serves += 1
                if entry.expired(now):
                    continue  # expired: absent, whatever else we know
                stale = await self.cache.record_of(entry)
                if stale is VANISHED:
                    raise
                if stale is not None:
                    result[key] = stale
            return result
        self.metrics.misses += len(wanted)
        for key in wanted:
            record = found[key].record
            if record is not None:
                result[key] = record
        return result

    async def _fetch(self, space: str, keys: Sequence[str], ttl: float) -> dict[str, Versioned]:
        """Read ``keys`` from the store, sharing the read of any key already being read.

        The read runs in its own task, so a caller that is cancelled does not cancel it for
        the others. Raises ``StoreUnavailable``."""
        loop = asyncio.get_running_loop()
        waiting: dict[str, asyncio.Future[Versioned]] = {}
        to_load: dict[str, asyncio.Future[Versioned]] = {}
        for key in dict.fromkeys(keys):
            future = self._inflight.get((space, key))
            if future is None:
                future = loop.create_future()
                future.add_done_callback(_consume)
                self._inflight[(space, key)] = to_load[key] = future
            else:
                self.metrics.coalesced += 1
            waiting[key] = future
        if to_load:
            self._spawn(self._load(space, to_load, ttl))
        found = {key: await asyncio.shield(future) for key, future in waiting.items()}
        if len(to_load) < len(waiting):  # joined reads cached with their first reader's TTL
            for key in waiting:
                entry = self.cache.peek(space, key)
                if entry is not None:
                    entry.ttl = min(entry.ttl, ttl)
        return found

    async def _load(self, space: str, futures: dict[str, asyncio.Future[Versioned]], ttl: float) -> None:
        keys = list(futures)
        since = self.cache.tick
        try:
            found = await self._read_store(space, keys)
        except Exception as exc:  # noqa: BLE001 - handed to every waiter, re-raised there
            for key, future in futures.items():
                self._inflight.pop((space, key), None)
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # cancelled (the store is closing): so are the waiters
            for key, future in futures.items():
                self._inflight.pop((space, key), None)
                future.cancel()
            raise
        now = self.clock.now()
        for key, future in futures.items():
            answer = found.get(key) or Versioned(None, 0)
            try:
                if self.cache.admits(space, key, answer.version, since):
                    await self.cache.store(space, key, answer.record, answer.version, ttl, now)
            except StorageError:
                pass  # the disk tier failed: the answer is still good, just not cached
            finally:
                self._inflight.pop((space, key), None)
                if not future.done():
                    future.set_result(answer)

    async def _read_store(self, space: str, keys: list[str]) -> dict[str, Versioned]:
        versioned = self._versioned
        if versioned is not None:
            if len(keys) == 1:
                one = await self._call(lambda: versioned.get_versioned(space, keys[0]))
                found = {keys[0]: one}
            else:
                found = await self._call(lambda: versioned.get_many_versioned(space, keys))
        elif len(keys) == 1:
            record = await self._call(lambda: self.inner.get(space, keys[0]))
            found = {keys[0]: Versioned(record, None)}
        else:
            records = await self._call(lambda: self.inner.get_many(space, keys))
            found = {k: Versioned(records.get(k), None) for k in keys}
        self.metrics.store_keys_read += len(keys)
        return found

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run one store call through the breaker and the timeout. Raises
        ``StoreUnavailable`` (at once while the breaker is open); logical errors pass."""
        health = self.health
        if not health.allow(self.clock.now()):
            self.metrics.fast_failures += 1
            raise _Refused("the central store is unavailable (retrying shortly)")
        generation = health.generation
        loop = asyncio.get_running_loop()
        started = loop.time()
        self.metrics.store_calls += 1
        try:
            async with asyncio.timeout(self.policy.store_timeout_seconds):
                result = await op()
        except _LOGICAL_ERRORS:
            health.success(self.clock.now(), generation)
            raise
        except (StorageError, OSError, TimeoutError) as exc:
            self.metrics.store_failures += 1
            health.failure(self.clock.now(), generation)
            if isinstance(exc, StoreUnavailable):
                raise
            raise StoreUnavailable(f"the central store is unavailable: {exc}") from exc
        except BaseException:
            health.release()
            raise
        self.metrics.store_latency.observe(loop.time() - started)
        health.success(self.clock.now(), generation)
        return result

    # -- writes ---------------------------------------------------------------------------

    async def put(
        self,
        space: str,
        key: str,
        value: bytes,
        *,
        expiration: int | None = None,
        metadata: str | None = None,
    ) -> None:
        if space.startswith(self.policy.uncached_prefixes):
            await self._call(lambda: self.inner.put(space, key, value, expiration=expiration, metadata=metadata))
            return
        since = self.cache.tick
        versioned = self._versioned
        version: int | None = None
        try:
            if versioned is not None:
                version = await self._call(
                    lambda: versioned.put_versioned(space, key, value, expiration=expiration, metadata=metadata)
                )
            else:
                await self._call(
                    lambda: self.inner.put(space, key, value, expiration=expiration, metadata=metadata)
                )
        except _Refused:
            raise  # never sent: the cached entry is still right (and servable while down)
        except BaseException:
            self._forget(space, key)
            raise
        await self._remember(space, key, Record(key, value, expiration, metadata), version, since)

    async def delete(self, space: str, key: str) -> bool:
        if space.startswith(self.policy.uncached_prefixes):
            return await self._call(lambda: self.inner.delete(space, key))
        since = self.cache.tick
        versioned = self._versioned
        version: int | None = None
        try:
            if versioned is not None:
                removed, version = await self._call(lambda: versioned.delete_versioned(space, key))
            else:
                removed = await self._call(lambda: self.inner.delete(space, key))
        except _Refused:
            raise  # never sent: the cached entry is still right (and servable while down)
        except BaseException:
            self._forget(space, key)
            raise
        await self._remember(space, key, None, version, since)
        return removed

    def _forget(self, space: str, key: str) -> None:
        """A write whose outcome is unknown (it failed, timed out, or was cancelled) may have
        landed: forget the key here so this location cannot read back the older value."""
        self.cache.note_change(space, key, None)
        self.cache.discard(space, key)

    async def _remember(
        self, space: str, key: str, record: Record | None, version: int | None, since: int
    ) -> None:
        """Read-your-writes: cache what this location just wrote, unless a newer change was
        announced while the write was under way; and keep reads that started before the
        write from caching the older answer they will get."""
        admitted = self.cache.admits(space, key, version, since)
        self.cache.note_change(space, key, version)
        if not admitted:
            self.cache.discard(space, key)
            return
        try:
            await self.cache.store(
                space, key, record, version, self.policy.write_cache_ttl_seconds, self.clock.now()
            )
        except StorageError:
            self.cache.discard(space, key)

    async def write_batch(
        self, space: str, puts: Iterable[Record] = (), deletes: Iterable[str] = ()
    ) -> None:
        deletes = list(deletes)
        written: list[str] = []

        def tap() -> Iterable[Record]:
            for record in puts:
                written.append(record.key)
                yield record

        try:
            await self._call(lambda: self.inner.write_batch(space, tap(), deletes))
        finally:
            # Bulk writes are not copied into the cache (they could flush it); forgetting the
            # keys keeps read-your-writes: the next read goes to the store.
            for key in dict.fromkeys([*deletes, *written]):
                self._forget(space, key)

    # -- everything else reads or changes the store directly ----------------------------

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
        return await self._call(
            lambda: self.inner.scan(
                space, prefix=prefix, start=start, start_after=start_after, end=end,
                reverse=reverse, limit=limit, values=values,
            )
        )

    async def scan_keys(
        self, space: str, *, prefix: str = "", start_after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, int | None, str | None]]:
        return await self._call(
            lambda: self.inner.scan_keys(space, prefix=prefix, start_after=start_after, limit=limit)
        )

    async def drop_space(self, space: str) -> None:
        await self._call(lambda: self.inner.drop_space(space))
        self.cache.discard_space(space)

    async def purge_expired(self) -> int:
        return await self._call(self.inner.purge_expired)

    async def create_namespace(
        self, namespace_id: str, title: str, account_id: str = LOCAL_ACCOUNT_ID
    ) -> NamespaceInfo:
        return await self._call(lambda: self.inner.create_namespace(namespace_id, title, account_id))

    async def list_namespaces(self, account_id: str | None = None) -> list[NamespaceInfo]:
        return await self._call(lambda: self.inner.list_namespaces(account_id))

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        return await self._call(lambda: self.inner.get_namespace(namespace_id))

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        return await self._call(lambda: self.inner.rename_namespace(namespace_id, title))

    async def delete_namespace(self, namespace_id: str) -> None:
        await self._call(lambda: self.inner.delete_namespace(namespace_id))
        self.cache.discard_space(namespace_id)

    # -- inspection and lifecycle -------------------------------------------------------

    def describe(self, space: str, key: str) -> dict[str, Any] | None:
        """What this location holds for one key (for the ``cache`` endpoint): ``None`` when
        nothing, else version, age, TTL left (seconds, negative once past), whether it is a
        cached miss and where its value lives."""
        entry = self.cache.peek(space, key)
        if entry is None:
            return None
        now = self.clock.now()
        return {
            "version": entry.version,
            "age": now - entry.fetched_at,
            "ttl": entry.ttl,
            "ttl_left": entry.ttl_left(now),
            "missing": entry.record is None,
            "expiration": entry.record.expiration if entry.record is not None else None,
            "tier": "disk" if entry.on_disk else "memory",
            "hits": entry.hits,
        }

    def render_metrics(self, labels: str = "") -> str:
        """This location's metrics in Prometheus text format."""
        gauges = {
            "cache_bytes": float(self.cache.bytes_used),
            "cache_disk_bytes": float(self.cache.disk_bytes_used),
            "cache_entries": float(len(self.cache)),
            "cache_evictions": float(self.cache.evictions),
            "store_up": 1.0 if self.health.up else 0.0,
        }
        return render_prometheus(self.metrics, gauges, labels=labels)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        _consume(task)  # a failed background refresh is already counted; nobody awaits it

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.cache.disk is not None:
            self.cache.disk.close()
        if self._close_inner:
            await self.inner.close()


class _Refused(StoreUnavailable):
    """Refused by the open breaker before anything was sent to the store."""


def _consume(future: asyncio.Future[Any]) -> None:
    """Mark a shared read's failure as retrieved: every waiter may have gone away."""
    if not future.cancelled():
        future.exception()
