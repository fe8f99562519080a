"""Planet scale on paper, run as code: many edge locations over one central store.

Run: ``.venv/bin/python bench/simulate.py [--locations 300] [--keys 2000] [--reads 2000]
[--writes 2] [--duration 150] [--outage 60] [--scenarios ttl,push,outage]``

Drives the real ``CachedStore``/``EdgeCache`` of every location on a simulated clock
(``edgekv.edge.simulation``; the model is described in docs/edge-cache.md). Three
comparisons, each against a baseline measured in the same run:

- ``ttl`` vs ``push``: Cloudflare's TTL-only model (baseline) against push invalidation:
  staleness of reads, hit ratio per location, load on the central store;
- ``outage``: the central store goes down for ``--outage`` seconds and comes back; the
  refill load after recovery without jitter (baseline: every stale entry refilled on its
  next read, breaker retries unjittered) against jittered, coalesced refill.

The default run takes about 1.5 minutes of CPU; ``--quick`` about 15 s.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace

from edgekv.edge.simulation import Report, SimConfig, percentile, run


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def _s(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds:,.2f} s"


def _staleness_row(name: str, report: Report) -> str:
    stale = report.staleness
    share = report.stale_reads / report.reads if report.reads else math.nan
    worst = stale[-1] if stale else math.nan
    return (
        f"  {name:<22} stale reads {report.stale_reads:>7,} ({share:6.2%})   "
        f"staleness p50 {_s(percentile(stale, 50)):>8}  p99 {_s(percentile(stale, 99)):>8}  "
        f"max {_s(worst):>8}"
    )


def _hit_row(name: str, report: Report) -> str:
    ratios = report.location_hit_ratios
    latency = report.read_latency
    return (
        f"  {name:<22} hit ratio {report.hit_ratio:6.1%}   "
        f"per location p10 {percentile(ratios, 10):6.1%}  "
        f"p50 {percentile(ratios, 50):6.1%}  p90 {percentile(ratios, 90):6.1%}   "
        f"read latency p50 {_ms(percentile(latency, 50))}  p99 {_ms(percentile(latency, 99))}"
    )


def compare_ttl_and_push(config: SimConfig, scenarios: set[str]) -> None:
    reports: dict[str, Report] = {}
    if "ttl" in scenarios:
        reports["TTL only (Cloudflare)"] = run(replace(config, invalidation=False))
    if "push" in scenarios:
        reports["push invalidation"] = run(replace(config, invalidation=True))
    if not reports:
        return
    print("\nStaleness (a read is stale when the value it returned had been replaced):")
    for name, report in reports.items():
        print(_staleness_row(name, report))
    for report in reports.values():
        if not math.isnan(report.notice_lag_mean):
            print(f"  (a notice reached a location {_ms(report.notice_lag_mean)} after its commit, on average)")
    print("\nCache hits (HIT, REVALIDATE, STALE answered by the location):")
    for name, report in reports.items():
        print(_hit_row(name, report))
    print("\nCentral store load (keys read per second, measured window):")
    base = None
    for name, report in reports.items():
        load = report.store_load(config.warmup_seconds, config.duration_seconds)
        per_read = load * (config.duration_seconds - config.warmup_seconds) / max(1, report.reads)
        ratio = "" if base is None else f"   {load / base:5.2f}x the TTL-only load"
        base = base or load
        print(f"  {name:<22} {load:9,.0f} keys/s   ({per_read:.3f} store reads per client read){ratio}")
    for name, report in reports.items():
        print(f"  ({name}: {report.writes:,} writes, wall time {report.wall_seconds:.1f} s)")


def compare_refill(config: SimConfig, outage_seconds: float) -> None:
    outage_at = config.warmup_seconds + 20
    end_of_outage = outage_at + outage_seconds
    outage = replace(
        config, invalidation=True, outage_at_seconds=outage_at, outage_seconds=outage_seconds,
        duration_seconds=end_of_outage + 60,
    )
    runs = {
        "refill all at once": run(replace(outage, refill_spread_seconds=0.0, retry_jitter=0.0)),
        "jittered refill": run(outage),
    }
    print(f"\nStore outage from {outage_at:.0f} s to {end_of_outage:.0f} s (simulated):")
    base_peak = None
    for name, report in runs.items():
        steady = report.store_load(config.warmup_seconds, outage_at)
        peak1 = report.peak_store_load(end_of_outage, end_of_outage + 60, 1)
        peak5 = report.peak_store_load(end_of_outage, end_of_outage + 60, 5)
        ratio = "" if base_peak is None else f"   peak {peak1 / base_peak:5.2f}x the baseline's"
        base_peak = base_peak or peak1
        print(
            f"  {name:<22} steady {steady:8,.0f} keys/s   after recovery: peak 1 s {peak1:8,.0f} "
            f"({peak1 / steady:4.1f}x steady)  peak 5 s {peak5:8,.0f} ({peak5 / steady:4.1f}x){ratio}"
        )
    for name, report in runs.items():
        refused = sum(report.store_refused_per_second.values())
        print(
            f"  ({name}: {report.failed_reads:,} of {report.reads:,} reads failed (cold keys), "
            f"{refused:,} calls refused by the down store, {report.failed_writes:,} writes failed, "
            f"wall time {report.wall_seconds:.1f} s)"
        )
    report = runs["jittered refill"]
    print("  store load by second around recovery (jittered):",
          " ".join(f"{report.store_reads_per_second[s]:,}" for s in range(int(end_of_outage) - 2, int(end_of_outage) + 20)))
    report = runs["refill all at once"]
    print("  store load by second around recovery (at once): ",
          " ".join(f"{report.store_reads_per_second[s]:,}" for s in range(int(end_of_outage) - 2, int(end_of_outage) + 20)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locations", type=int, default=300)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of key popularity")
    parser.add_argument("--reads", type=float, default=2000.0, help="reads per second, all locations")
    parser.add_argument("--writes", type=float, default=2.0, help="writes per second")
    parser.add_argument("--duration", type=float, default=120.0, help="simulated seconds per run")
    parser.add_argument("--warmup", type=float, default=45.0, help="simulated seconds not measured")
    parser.add_argument("--cache-ttl", type=float, default=60.0, help="the readers' cacheTtl")
    parser.add_argument("--outage", type=float, default=60.0, help="outage length, seconds")
    parser.add_argument("--scenarios", default="ttl,push,outage")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a small run (seconds)")
    args = parser.parse_args()
    config = SimConfig(
        locations=args.locations, keys=args.keys, zipf_exponent=args.zipf,
        reads_per_second=args.reads, writes_per_second=args.writes,
        duration_seconds=args.duration, warmup_seconds=args.warmup,
        cache_ttl_seconds=args.cache_ttl, seed=args.seed,
    )
    if args.quick:
        config = replace(config, locations=30, keys=300, reads_per_second=300, duration_seconds=90, warmup_seconds=30)
    scenarios = set(args.scenarios.split(","))
    started = time.perf_counter()
    rtts = run(replace(config, duration_seconds=0, warmup_seconds=0)).rtts_ms
    print(
        f"{config.locations} locations (round trip to the store: p10 {percentile(rtts, 10):.0f} ms, "
        f"p50 {percentile(rtts, 50):.0f} ms, p90 {percentile(rtts, 90):.0f} ms, max {rtts[-1]:.0f} ms), "
        f"{config.keys:,} keys (Zipf {config.zipf_exponent}), {config.reads_per_second:,.0f} reads/s, "
        f"{config.writes_per_second:g} writes/s, cacheTtl {config.cache_ttl_seconds:g} s, "
        f"{config.duration_seconds - config.warmup_seconds:g} s measured after {config.warmup_seconds:g} s warm-up"
    )
    compare_ttl_and_push(config, scenarios)
    if "outage" in scenarios:
        compare_refill(config, args.outage)
    print(f"\ntotal wall time {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
