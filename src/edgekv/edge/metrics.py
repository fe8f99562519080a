"""Counters of one location's edge cache, and their Prometheus text rendering.

Counters only grow; gauges (bytes and entries cached, breaker state) are read from the cache
when rendered. Latencies are kept as Prometheus histograms with fixed buckets in seconds.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field, fields

__all__ = ["EdgeMetrics", "Histogram", "render_prometheus"]

#: Bucket upper bounds in seconds, from a same-host store (sub-ms) to an ocean away (0.3 s+).
LATENCY_BUCKETS_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(slots=True)
class Histogram:
    """A cumulative histogram over ``LATENCY_BUCKETS_SECONDS``."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_SECONDS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS_SECONDS, seconds)] += 1
        self.total += seconds
        self.count += 1


@dataclass(slots=True)
class EdgeMetrics:
    """What one location's cache did. Every field is a counter unless it is a Histogram."""

    hits: int = 0  # fresh answers from the cache (cacheStatus HIT or REVALIDATE)
    misses: int = 0  # answers that had to come from the store (cacheStatus MISS)
    stale_serves: int = 0  # answers past their TTL, store down or refill deferred (STALE)
    revalidations: int = 0  # background refreshes of popular keys started
    coalesced: int = 0  # reads that waited on another read's store fetch instead of their own
    store_calls: int = 0  # calls that reached the store
    store_keys_read: int = 0  # keys read from the store (a bulk read counts each key)
    store_failures: int = 0  # calls that failed because the store could not be reached
    fast_failures: int = 0  # calls refused at once because the breaker was open
    invalidations: int = 0  # notices applied
    invalidation_drops: int = 0  # entries dropped by notices
    full_drops: int = 0  # whole-cache drops (invalidation stream lost past its history)
    store_latency: Histogram = field(default_factory=Histogram)
    invalidation_lag: Histogram = field(default_factory=Histogram)


_HELP = {
    "hits": "Reads answered from the edge cache within their TTL.",
    "misses": "Reads answered by the central store.",
    "stale_serves": "Reads answered from the cache past their TTL (store down or refill deferred).",
    "revalidations": "Background refreshes of popular keys before they expire.",
    "coalesced": "Reads that shared another read's store fetch.",
    "store_calls": "Calls that reached the central store.",
    "store_keys_read": "Keys read from the central store.",
    "store_failures": "Store calls that failed because the store could not be reached.",
    "fast_failures": "Store calls refused at once because the store is known to be down.",
    "invalidations": "Invalidation notices applied.",
    "invalidation_drops": "Cache entries dropped by invalidation notices.",
    "full_drops": "Times the whole cache was dropped.",
    "store_latency": "Latency of central store calls, seconds.",
    "invalidation_lag": "Time from a change's commit to its notice being applied here, seconds.",
}


def render_prometheus(
    metrics: EdgeMetrics, gauges: dict[str, float], *, prefix: str = "edgekv_edge_", labels: str = ""
) -> str:
    """The Prometheus text exposition (format 0.0.4) of ``metrics`` and ``gauges``.

    ``labels`` is an optional label set without braces (``location="fra"``), added to every
    sample. Counter names end in ``_total``; histograms in ``_seconds``.
    """
    lines: list[str] = []
    braces = f"{{{labels}}}" if labels else ""
    for f in fields(metrics):
        value = getattr(metrics, f.name)
        if isinstance(value, Histogram):
            name = f"{prefix}{f.name}_seconds"
            lines.append(f"# HELP {name} {_HELP[f.name]}")
            lines.append(f"# TYPE {name} histogram")
            running = 0
            for bound, count in zip((*LATENCY_BUCKETS_SECONDS, float("inf")), value.counts):
                running += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                extra = f"{labels}," if labels else ""
                lines.append(f'{name}_bucket{{{extra}le="{le}"}} {running}')
            lines.append(f"{name}_sum{braces} {value.total!r}")
            lines.append(f"{name}_count{braces} {value.count}")
        else:
            name = f"{prefix}{f.name}_total"
            lines.append(f"# HELP {name} {_HELP[f.name]}")
            lines.append(f"# TYPE {name} counter")
            lines.append(f"{name}{braces} {value}")
    for gauge, value in gauges.items():
        name = f"{prefix}{gauge}"
        lines.append(f"# TYPE {name} gauge")
        lines.append(f"{name}{braces} {value:g}")
    return "\n".join(lines) + "\n"
