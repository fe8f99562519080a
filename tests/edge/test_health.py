"""StoreHealth: the circuit breaker in front of the central store."""

from __future__ import annotations

import random

from edgekv.edge.health import StoreHealth


def breaker(jitter: float = 0.0) -> StoreHealth:
    return StoreHealth(initial_backoff_seconds=1, max_backoff_seconds=8, jitter=jitter, rng=random.Random(3))


def test_a_failure_opens_and_probes_back_off_up_to_the_maximum() -> None:
    health = breaker()
    assert health.allow(0)
    health.failure(0, health.generation)
    assert not health.up and health.retry_at == 1
    assert not health.allow(0.5)
    waits = []
    now = 0.0
    for _ in range(6):
        now = health.retry_at
        assert health.allow(now)
        assert not health.allow(now)  # one probe at a time
        health.failure(now, health.generation)
        waits.append(health.retry_at - now)
    assert waits == [2, 4, 8, 8, 8, 8]
    assert health.allow(health.retry_at)
    health.success(health.retry_at, health.generation)
    assert health.up and health.recovered_at == now + 8


def test_answers_to_calls_sent_before_the_outage_do_not_count() -> None:
    health = breaker()
    before = health.generation
    health.failure(10, before)
    health.success(10.1, before)  # an old call's answer: the store may still be down
    assert not health.up
    health.failure(10.2, before)  # an old call's failure: no extra back-off
    assert health.retry_at == 11


def test_retry_times_are_jittered() -> None:
    times = set()
    for seed in range(20):
        health = StoreHealth(initial_backoff_seconds=2, jitter=0.5, rng=random.Random(seed))
        health.failure(0, 0)
        times.add(health.retry_at)
        assert 1 <= health.retry_at <= 3
    assert len(times) == 20
