"""A small run of the planet-scale simulation (bench/simulate.py runs the big one): the real
edge caches of 20 locations on virtual time keep Workers KV's contract, push invalidation
beats it, and jittered refill after an outage spares the recovering store."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from edgekv.edge.simulation import SimConfig, draw_rtts, percentile, run
from edgekv.edge.virtualtime import LoopClock, VirtualTimeLoop

SMALL = SimConfig(
    locations=20, keys=200, reads_per_second=200, writes_per_second=2,
    duration_seconds=70, warmup_seconds=20, seed=7,
)


def test_virtual_time_jumps_to_the_next_timer() -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        clock = LoopClock(loop, epoch=1000)
        await asyncio.sleep(3600)
        try:
            async with asyncio.timeout(5):
                await asyncio.sleep(60)
        except TimeoutError:
            pass
        return loop.time(), clock.now()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        assert runner.run(main()) == (3605.0, 4605.0)


def test_round_trip_times_look_like_a_planet() -> None:
    import random

    rtts = sorted(draw_rtts(300, random.Random(1)))
    assert 0.001 <= rtts[0] and rtts[-1] <= 0.45
    assert 0.005 < percentile(rtts, 10) < 0.03  # locations next to the store
    assert 0.08 < percentile(rtts, 50) < 0.16
    assert 0.18 < percentile(rtts, 90)


def test_ttl_only_keeps_the_kv_contract_and_push_beats_it() -> None:
    ttl_only = run(replace(SMALL, invalidation=False))
    push = run(replace(SMALL, invalidation=True))
    for report in (ttl_only, push):
        assert report.reads > 9000 and report.failed_reads == 0 and report.writes > 50
        assert 0.3 < report.hit_ratio < 1
    # TTL only: stale reads happen, never staler than the cacheTtl plus one trip.
    assert ttl_only.stale_reads > 100
    assert ttl_only.staleness[-1] <= SMALL.cache_ttl_seconds + 0.5
    assert percentile(ttl_only.staleness, 50) > 5
    # Push: a write is seen everywhere within a trip and a bit.
    assert push.stale_reads < ttl_only.stale_reads / 10
    assert push.staleness[-1] < 1.0


def test_refill_after_an_outage_is_spread_out() -> None:
    outage = replace(SMALL, outage_at_seconds=40, outage_seconds=60, duration_seconds=160)
    at_once = run(replace(outage, refill_spread_seconds=0, retry_jitter=0))
    jittered = run(outage)
    for report in (at_once, jittered):
        assert report.failed_reads > 0  # cold keys during the outage fail fast
        assert report.failed_reads < report.reads / 2  # cached keys kept being served
        assert sum(report.store_reads_per_second[s] for s in range(40, 100)) == 0
    peak = {name: r.peak_store_load(100, 130, 5) for name, r in (("at once", at_once), ("jittered", jittered))}
    assert peak["jittered"] < peak["at once"]
