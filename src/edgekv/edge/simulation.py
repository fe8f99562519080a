"""Planet scale on paper, run as code: many locations over one central store.

Every location is the real ``CachedStore`` (with its ``EdgeCache``, breaker, coalescing and
background refresh), on a ``VirtualTimeLoop`` whose clock jumps from event to event. The
network is a ``_Link`` per location that delays each call by half the location's round-trip
time each way; the central store is a ``VersioningStore`` over the real ``MemoryStore``,
which can be taken down and brought back. Reads follow a Zipf law over the keys and a
heavy-tailed spread over locations; writes are a Poisson stream over the same keys. With
invalidation on, each committed change reaches every location after its one-way delay.

Staleness of a read is how long ago the value it returned stopped being current (0 when it
is current when the read completes). ``run`` returns a ``Report``; bench/simulate.py prints
it and docs/edge-cache.md describes the model and its figures.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import itertools
import math
import random
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgekv.edge.cache import EdgeCache
from edgekv.edge.forwarding import ForwardingStore
from edgekv.edge.invalidation import Invalidator
from edgekv.edge.store import HIT, REVALIDATE, STALE, CachedStore, EdgePolicy
from edgekv.edge.versions import Change, Versioned, VersioningStore
from edgekv.edge.virtualtime import LoopClock, VirtualTimeLoop
from edgekv.errors import StoreUnavailable
from edgekv.storage.base import Record
from edgekv.storage.memory import MemoryStore

__all__ = ["RTT_REGIONS", "Report", "SimConfig", "draw_rtts", "percentile", "run"]

SPACE = "simulated-namespace"

#: Where Cloudflare-like locations sit relative to a central store in Western Europe:
#: (region, share of locations, median round-trip ms, log-normal sigma). Medians follow
#: public inter-continental latency maps (Europe-internal tens of ms, the US East coast
#: ~80-100 ms, Asia and South America ~200 ms, Oceania ~280 ms).
RTT_REGIONS: tuple[tuple[str, float, float, float], ...] = (
    ("Europe", 0.33, 18.0, 0.6),
    ("North America", 0.24, 110.0, 0.3),
    ("Asia", 0.22, 210.0, 0.3),
    ("South America", 0.08, 200.0, 0.2),
    ("Africa and Middle East", 0.08, 120.0, 0.4),
    ("Oceania", 0.05, 280.0, 0.1),
)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """One simulated scenario. Times in seconds (simulated)."""

    locations: int = 300
    keys: int = 5000
    zipf_exponent: float = 1.0
    reads_per_second: float = 3000.0  # over all locations
    writes_per_second: float = 5.0
    duration_seconds: float = 300.0
    warmup_seconds: float = 60.0  # reads before this are not measured
    cache_ttl_seconds: float = 60.0
    invalidation: bool = True
    notice_delay_seconds: float = 0.005  # commit -> notice leaves the store (NOTIFY, relay)
    outage_at_seconds: float | None = None
    outage_seconds: float = 60.0
    refill_spread_seconds: float = 30.0
    retry_jitter: float = 0.5
    value_bytes: int = 300  # the median KV value is 288 bytes (Cloudflare, 2025)
    seed: int = 1


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted ``values`` (nearest rank); nan if empty."""
    if not values:
        return math.nan
    rank = max(0, min(len(values) - 1, math.ceil(q / 100 * len(values)) - 1))
    return values[rank]


@dataclass(slots=True)
class Report:
    """What one run measured (reads after the warm-up; load over the whole run)."""

    config: SimConfig
    reads: int = 0
    failed_reads: int = 0
    cache_answers: int = 0  # HIT, REVALIDATE or STALE
    stale_reads: int = 0  # returned a value that was no longer current
    staleness: list[float] = field(default_factory=list)  # seconds, of the stale reads
    location_hit_ratios: list[float] = field(default_factory=list)
    store_reads_per_second: Counter[int] = field(default_factory=Counter)  # keys, by second
    store_refused_per_second: Counter[int] = field(default_factory=Counter)
    writes: int = 0
    failed_writes: int = 0
    read_latency: list[float] = field(default_factory=list)
    notice_lag_mean: float = math.nan  # commit -> notice applied, over every location, seconds
    rtts_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def hit_ratio(self) -> float:
        return self.cache_answers / self.reads if self.reads else math.nan

    def store_load(self, start: float, end: float) -> float:
        """Mean keys read per second at the central store over [start, end)."""
        seconds = range(int(start), int(end))
        return sum(self.store_reads_per_second[s] for s in seconds) / max(1, len(seconds))

    def peak_store_load(self, start: float, end: float, window: int = 1) -> float:
        """The highest mean load over ``window`` consecutive seconds within [start, end)."""
        counts = [self.store_reads_per_second[s] for s in range(int(start), int(end))]
        if len(counts) < window:
            return math.nan
        return max(sum(counts[i : i + window]) / window for i in range(len(counts) - window + 1))


def draw_rtts(count: int, rng: random.Random) -> list[float]:
    """Round-trip times in seconds for ``count`` locations, drawn from ``RTT_REGIONS``."""
    shares = list(itertools.accumulate(share for _, share, _, _ in RTT_REGIONS))
    rtts = []
    for _ in range(count):
        region = RTT_REGIONS[bisect.bisect_left(shares, rng.random() * shares[-1])]
        rtt_ms = rng.lognormvariate(math.log(region[2]), region[3])
        rtts.append(min(450.0, max(1.0, rtt_ms)) / 1000)
    return rtts


class _Central(VersioningStore):
    """The central store: records what is current and when each value stopped being so,
    counts the load, and refuses everything while down."""

    def __init__(self, report: Report) -> None:
        super().__init__(MemoryStore())
        self.report = report
        self.down = False
        self.current: dict[str, int] = {}
        self.superseded_at: dict[int, float] = {}
        self.loop = asyncio.get_running_loop()

    def arrive(self, keys: int) -> None:
        second = int(self.loop.time())
        if self.down:
            self.report.store_refused_per_second[second] += 1
            raise StoreUnavailable("simulated outage")
        self.report.store_reads_per_second[second] += keys

    def committed(self, key: str, write_id: int) -> None:
        previous = self.current.get(key)
        if previous is not None:
            self.superseded_at[previous] = self.loop.time()
        self.current[key] = write_id


class _Link(ForwardingStore):
    """The network between one location and the central store: half the round trip each
    way. Implements the versioned protocol by forwarding it."""

    def __init__(self, central: _Central, rtt: float) -> None:
        super().__init__(central)
        self.central = central
        self.half = rtt / 2

    async def get_versioned(self, space: str, key: str) -> Versioned:
        await asyncio.sleep(self.half)
        try:
            self.central.arrive(1)
        except StoreUnavailable:
            await asyncio.sleep(self.half)  # the refusal travels back too
            raise
        answer = await self.central.get_versioned(space, key)
        await asyncio.sleep(self.half)
        return answer

    async def get_many_versioned(self, space: str, keys: Sequence[str]) -> dict[str, Versioned]:
        await asyncio.sleep(self.half)
        try:
            self.central.arrive(len(keys))
        except StoreUnavailable:
            await asyncio.sleep(self.half)
            raise
        answer = await self.central.get_many_versioned(space, keys)
        await asyncio.sleep(self.half)
        return answer

    async def put_versioned(
        self, space: str, key: str, value: bytes, *, expiration: int | None = None, metadata: str | None = None
    ) -> int:
        await asyncio.sleep(self.half)
        try:
            if self.central.down:
                raise StoreUnavailable("simulated outage")
            version = await self.central.put_versioned(space, key, value, expiration=expiration, metadata=metadata)
            self.central.committed(key, int(value.split(b":", 1)[0]))
        finally:
            await asyncio.sleep(self.half)
        return version

    async def delete_versioned(self, space: str, key: str) -> tuple[bool, int]:
        await asyncio.sleep(self.half)
        answer = await self.central.delete_versioned(space, key)
        await asyncio.sleep(self.half)
        return answer


class _Sampler:
    """Draws from a discrete distribution with given weights (inverse CDF by bisection)."""

    def __init__(self, weights: Sequence[float], rng: random.Random) -> None:
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]
        self._rng = rng

    def draw(self) -> int:
        return bisect.bisect_left(self._cumulative, self._rng.random() * self._total)


class _Simulation:
    def __init__(self, config: SimConfig, report: Report) -> None:
        self.config = config
        self.report = report
        self.loop = asyncio.get_running_loop()
        self.rng = random.Random(config.seed)
        self.central = _Central(report)
        clock = LoopClock(self.loop)
        self.central.clock = clock
        self.central.inner.clock = clock
        rtts = draw_rtts(config.locations, self.rng)
        report.rtts_ms = sorted(r * 1000 for r in rtts)
        policy = EdgePolicy(
            default_cache_ttl_seconds=config.cache_ttl_seconds,
            refill_spread_seconds=config.refill_spread_seconds,
            retry_jitter=config.retry_jitter,
        )
        self.stores: list[CachedStore] = []
        self.delays: list[float] = []
        self.invalidators: list[Invalidator] = []
        for index, rtt in enumerate(rtts):
            rng = random.Random(config.seed * 1_000_003 + index)
            store = CachedStore(
                _Link(self.central, rtt), cache=EdgeCache(rng=rng), policy=policy, rng=rng,
                close_inner=False,
            )
            self.stores.append(store)
            self.invalidators.append(Invalidator(store))
            self.delays.append(config.notice_delay_seconds + rtt / 2)
        if config.invalidation:
            self.central.subscribe(self._fan_out)
        self.keys = [f"key-{i:06d}" for i in range(config.keys)]
        self.key_sampler = _Sampler([1 / (i + 1) ** config.zipf_exponent for i in range(config.keys)], self.rng)
        self.location_sampler = _Sampler([self.rng.lognormvariate(0, 1) for _ in rtts], self.rng)
        self.location_reads = [0] * len(rtts)
        self.location_hits = [0] * len(rtts)
        self.write_ids = itertools.count(1)
        self.pending: set[asyncio.Task[None]] = set()

    def _fan_out(self, change: Change) -> None:
        committed = self.central.clock.now()
        for invalidator, delay in zip(self.invalidators, self.delays):
            self.loop.call_later(
                delay,
                functools.partial(
                    invalidator.apply_notice, change.space, change.key, change.version,
                    committed_at=committed,
                ),
            )

    def value(self, write_id: int) -> bytes:
        head = b"%d:" % write_id
        return head + b"x" * max(0, self.config.value_bytes - len(head))

    async def load_initial_values(self) -> None:
        for key in self.keys:
            write_id = next(self.write_ids)
            await self.central.inner.put(SPACE, key, self.value(write_id))
            self.central.committed(key, write_id)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def read(self, location: int, key: str, measured: bool) -> None:
        started = self.loop.time()
        store = self.stores[location]
        try:
            record, status = await store.get_with_status(SPACE, key, self.config.cache_ttl_seconds)
        except StoreUnavailable:
            if measured:
                self.report.reads += 1
                self.report.failed_reads += 1
                self.location_reads[location] += 1
            return
        if measured:
            self.measure(location, key, record, self.loop.time() - started, status in (HIT, REVALIDATE, STALE))

    def measure(self, location: int, key: str, record: Record | None, latency: float, cached: bool) -> None:
        report = self.report
        report.reads += 1
        self.location_reads[location] += 1
        if cached:
            report.cache_answers += 1
            self.location_hits[location] += 1
        report.read_latency.append(latency)
        assert record is not None and record.value is not None  # keys are never deleted here
        write_id = int(record.value.split(b":", 1)[0])
        if self.central.current[key] != write_id:
            report.stale_reads += 1
            report.staleness.append(self.loop.time() - self.central.superseded_at[write_id])

    async def write(self, location: int, key: str) -> None:
        write_id = next(self.write_ids)
        try:
            await self.stores[location].put(SPACE, key, self.value(write_id))
            self.report.writes += 1
        except StoreUnavailable:
            self.report.failed_writes += 1

    async def outage(self) -> None:
        config = self.config
        assert config.outage_at_seconds is not None
        await asyncio.sleep(config.outage_at_seconds)
        self.central.down = True
        await asyncio.sleep(config.outage_seconds)
        self.central.down = False

    async def drive(self) -> None:
        config = self.config
        rng = self.rng
        tick = 0.005
        next_read = rng.expovariate(config.reads_per_second)
        next_write = rng.expovariate(config.writes_per_second) if config.writes_per_second > 0 else math.inf
        keys, draw_key, draw_location = self.keys, self.key_sampler.draw, self.location_sampler.draw
        stores, ttl = self.stores, config.cache_ttl_seconds
        if config.outage_at_seconds is not None:
            self._spawn(self.outage())
        start = self.loop.time()
        while True:
            now = self.loop.time() - start
            if now >= config.duration_seconds:
                break
            measured = now >= config.warmup_seconds
            while next_read <= now:
                location, key = draw_location(), keys[draw_key()]
                answer = stores[location].cached_answer(SPACE, key, ttl)
                if answer is None:  # the store must be read: that takes a task
                    self._spawn(self.read(location, key, measured))
                elif measured:
                    self.measure(location, key, answer[0], 0.0, cached=True)
                next_read += rng.expovariate(config.reads_per_second)
            while next_write <= now:
                self._spawn(self.write(draw_location(), keys[draw_key()]))
                next_write += rng.expovariate(config.writes_per_second)
            await asyncio.sleep(tick)
        if self.pending:
            await asyncio.wait(list(self.pending))
        for reads, hits in zip(self.location_reads, self.location_hits):
            if reads >= 20:
                self.report.location_hit_ratios.append(hits / reads)
        self.report.location_hit_ratios.sort()
        self.report.staleness.sort()
        self.report.read_latency.sort()
        lags = [store.metrics.invalidation_lag for store in self.stores]
        count = sum(lag.count for lag in lags)
        if count:
            self.report.notice_lag_mean = sum(lag.total for lag in lags) / count
        for store in self.stores:
            await store.close()


def run(config: SimConfig) -> Report:
    """Run one scenario to completion on a fresh virtual-time loop."""
    import time

    report = Report(config)
    started = time.perf_counter()

    async def main() -> None:
        simulation = _Simulation(config, report)
        await simulation.load_initial_values()
        await simulation.drive()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        runner.run(main())
    report.wall_seconds = time.perf_counter() - started
    return report
