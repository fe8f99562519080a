"""Metrics in Prometheus text format, and what one location holds for a key."""

from __future__ import annotations

from collections.abc import Callable

from edgekv.clock import FakeClock
from edgekv.edge import CachedStore

from .conftest import SPACE, FaultyStore

Make = Callable[..., CachedStore]


async def test_metrics_render_as_prometheus_text(make_location: Make, authority: FaultyStore) -> None:
    await authority.put(SPACE, "k", b"v")
    here = make_location()
    await here.get(SPACE, "k")
    await here.get(SPACE, "k")
    text = here.render_metrics(labels='location="fra"')
    lines = text.splitlines()
    assert "# TYPE edgekv_edge_hits_total counter" in lines
    assert 'edgekv_edge_hits_total{location="fra"} 1' in lines
    assert 'edgekv_edge_misses_total{location="fra"} 1' in lines
    assert 'edgekv_edge_store_keys_read_total{location="fra"} 1' in lines
    assert "# TYPE edgekv_edge_store_latency_seconds histogram" in lines
    assert 'edgekv_edge_store_latency_seconds_bucket{location="fra",le="+Inf"} 1' in lines
    assert 'edgekv_edge_store_latency_seconds_count{location="fra"} 1' in lines
    assert 'edgekv_edge_store_up{location="fra"} 1' in lines
    assert any(line.startswith('edgekv_edge_cache_bytes{location="fra"} ') for line in lines)
    assert text.endswith("\n")
    for line in lines:  # every sample line is "name{labels} number"
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


async def test_describe_shows_version_age_and_ttl_left(
    make_location: Make, authority: FaultyStore, clock: FakeClock
) -> None:
    here = make_location()
    assert here.describe(SPACE, "k") is None
    await here.get(SPACE, "k", cache_ttl=90)
    clock.advance(30)
    assert here.describe(SPACE, "k") == {
        "version": None, "age": 30.0, "ttl": 90, "ttl_left": 60.0, "missing": True,
        "expiration": None, "tier": "memory", "hits": 0,
    }
