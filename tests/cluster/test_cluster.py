"""Three real ``edgekv serve --store postgresql://... --location NAME`` processes over one
PostgreSQL schema (tests/cluster/harness.py): propagation, read-your-writes, negative
caching, last-writer-wins convergence, the store killed with ``kill -9`` and restarted,
the management endpoints, and a second primary refused. docs/cluster.md states the contract.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.harness import NAMESPACE_ID, Cluster, Location, edgekv
from tests.pg import PostgresCluster

# How long a change may take to reach another location in these tests. Notices arrive in
# milliseconds; the bound is generous for a loaded 2-core CI machine.
PROPAGATION_BOUND_SECONDS = 10.0


@pytest.fixture(scope="module")
def cluster(postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    url = postgres_cluster.url(postgres_cluster.new_schema())
    with Cluster(url, tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def wait_until(check: Callable[[], bool], timeout: float = PROPAGATION_BOUND_SECONDS) -> float:
    """Poll ``check`` until it holds; the seconds it took. Fails after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not reached within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


def read(http: httpx.Client, location: Location, key: str, **params: object) -> tuple[int, str, str]:
    reply = http.get(f"{location.url}/kv/{key}", params=params)
    return reply.status_code, reply.text, reply.headers.get("x-cache-status", "")


def write(http: httpx.Client, location: Location, key: str, value: str, **params: object) -> None:
    reply = http.put(f"{location.url}/kv/{key}", content=value, params=params)
    assert reply.status_code == 200, reply.text


def test_a_write_is_read_at_once_where_it_was_made_and_soon_everywhere(cluster: Cluster, http: httpx.Client) -> None:
    a, b, c = cluster.locations
    write(http, a, "greeting", "hello")
    assert read(http, b, "greeting")[:2] == (200, "hello")
    assert read(http, c, "greeting")[:2] == (200, "hello")
    assert read(http, b, "greeting")[2] == "HIT"  # b now holds it for 60 s
    write(http, a, "greeting", "bonjour")
    assert read(http, a, "greeting")[:2] == (200, "bonjour")  # read-your-writes
    wait_until(lambda: read(http, b, "greeting")[1] == "bonjour")  # pushed, not waited out
    wait_until(lambda: read(http, c, "greeting")[1] == "bonjour")


def test_a_cached_miss_is_replaced_when_the_key_is_written_elsewhere(cluster: Cluster, http: httpx.Client) -> None:
    a, b, _ = cluster.locations
    assert read(http, b, "later", cacheTtl=300) == (404, "", "MISS")
    assert read(http, b, "later", cacheTtl=300) == (404, "", "HIT")  # the miss is cached
    write(http, a, "later", "now")
    wait_until(lambda: read(http, b, "later", cacheTtl=300)[:2] == (200, "now"))


def test_a_delete_propagates(cluster: Cluster, http: httpx.Client) -> None:
    a, b, c = cluster.locations
    write(http, b, "doomed", "x")
    assert read(http, c, "doomed")[:2] == (200, "x")
    assert http.delete(f"{a.url}/kv/doomed").status_code == 200
    assert read(http, a, "doomed")[0] == 404
    wait_until(lambda: read(http, c, "doomed")[0] == 404)


def test_concurrent_writes_from_every_location_converge_to_one_value(cluster: Cluster, http: httpx.Client) -> None:
    for location in cluster.locations:
        read(http, location, "contended")  # every location caches the key first
    errors: list[BaseException] = []

    def writer(location: Location) -> None:
        try:
            with httpx.Client(timeout=10) as client:
                for round_ in range(15):
                    write(client, location, "contended", f"{location.name}-{round_}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(loc,)) for loc in cluster.locations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    def converged() -> bool:
        values = {read(http, loc, "contended")[1] for loc in cluster.locations}
        return len(values) == 1

    wait_until(converged)
    final = read(http, cluster.locations[0], "contended")[1]
    assert final.endswith("-14")  # the last write of some location, not an earlier one
    # and it is what the central store holds (`edgekv kv ... --store URL` reads it directly)
    stored = edgekv("kv", "key", "get", "contended", "--namespace-id", NAMESPACE_ID, "--text",
                    "--store", cluster.store_url, "--persist-to", str(cluster.root / "admin"))
    assert stored.strip().endswith(final)


def test_management_endpoints(cluster: Cluster, http: httpx.Client) -> None:
    a, b, c = cluster.locations
    write(http, a, "described", "v")
    read(http, b, "described")
    listed = http.get(f"{b.url}/cdn-cgi/edgekv/locations", headers=cluster.auth).json()["result"]
    assert [row["name"] for row in listed] == ["loc0", "loc1", "loc2"]
    assert [row["primary"] for row in listed] == [True, False, False]
    assert {row["health"] for row in listed} == {"up"}
    assert [row["url"] for row in listed] == [a.url, b.url, c.url]
    held = http.get(f"{b.url}/cdn-cgi/edgekv/cache", headers=cluster.auth,
                    params={"namespace": NAMESPACE_ID, "key": "described"}).json()["result"]
    assert held["location"] == "loc1" and held["state"] == "fresh"
    assert 0 < held["ttl_left_seconds"] <= 60 and held["version"] > 0
    everywhere = http.get(f"{c.url}/cdn-cgi/edgekv/locations/cache", headers=cluster.auth,
                          params={"namespace": NAMESPACE_ID, "key": "described"}).json()["result"]
    assert {row["location"]: row["state"] for row in everywhere}["loc1"] == "fresh"
    # behind a token: none, or a wrong one, is refused; metrics are open
    assert http.get(f"{b.url}/cdn-cgi/edgekv/locations").status_code == 403
    assert http.get(f"{b.url}/cdn-cgi/edgekv/cache", params={"namespace": NAMESPACE_ID, "key": "x"},
                    headers={"authorization": "Bearer nope"}).status_code == 403
    metrics = http.get(f"{b.url}/cdn-cgi/edgekv/metrics").text
    assert 'edgekv_edge_hits_total{location="loc1"}' in metrics
    assert "edgekv_edge_store_latency" in metrics and "edgekv_edge_invalidation_lag" in metrics


def test_a_second_primary_refuses_to_start(cluster: Cluster, tmp_path: Path) -> None:
    second = Location("second", ["serve", "--port", "0", "--store", cluster.store_url,
                                 "--location", "second", "--primary", "--persist-to", str(tmp_path)])
    with pytest.raises(AssertionError, match="Could not become the primary: location 'loc0'"):
        second.start()  # bounded by its refusal (or exit); the bound is for a loaded machine


def test_the_store_killed_and_restarted(cluster: Cluster, http: httpx.Client,
                                        postgres_cluster: PostgresCluster) -> None:
    """``kill -9`` of PostgreSQL: cached reads are served throughout, writes fail clearly
    (none acknowledged is lost), and after the restart the caches converge."""
    a, b, c = cluster.locations
    write(http, a, "durable", "before")
    for location in cluster.locations:
        assert read(http, location, "durable")[1] == "before"
    pid = postgres_cluster.postmaster_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    try:
        wait_until(lambda: postgres_cluster.postmaster_pid() is None or not _alive(pid), timeout=10)
        for location in cluster.locations:
            status, value, _ = read(http, location, "durable")
            assert (status, value) == (200, "before")  # served from the cache
        refused = http.put(f"{b.url}/kv/durable", content="during")
        assert refused.status_code != 200  # not acknowledged, so not owed
        assert "KV PUT failed: 503 Service Unavailable" in refused.text or refused.status_code >= 500
    finally:
        postgres_cluster.start_primary()
    # the pools reconnect; an acknowledged write after the restart reaches every location
    wait_until(lambda: http.put(f"{c.url}/kv/durable", content="after").status_code == 200, timeout=30)
    for location in cluster.locations:
        wait_until(lambda loc=location: read(http, loc, "durable")[1] == "after", timeout=30)
    assert read(http, a, "greeting")[1] == "bonjour"  # acknowledged before the crash: kept


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_cached_read_keeps_its_cache_ttl(cluster: Cluster, http: httpx.Client) -> None:
    a, b, _ = cluster.locations
    write(http, a, "ttl", "v")
    assert read(http, b, "ttl", cacheTtl=300)[2] == "MISS"
    held = http.get(f"{b.url}/cdn-cgi/edgekv/cache", headers=cluster.auth,
                    params={"namespace": NAMESPACE_ID, "key": "ttl"}).json()["result"]
    assert held["ttl_seconds"] == 300 and 290 < held["ttl_left_seconds"] <= 300
    assert read(http, b, "ttl", cacheTtl=60)[2] == "HIT"  # a lower cacheTtl shortens it
    held = http.get(f"{b.url}/cdn-cgi/edgekv/cache", headers=cluster.auth,
                    params={"namespace": NAMESPACE_ID, "key": "ttl"}).json()["result"]
    assert held["ttl_seconds"] == 60


def test_an_expired_record_is_never_served_from_a_cache(cluster: Cluster, http: httpx.Client) -> None:
    """Expiration wins over cacheTtl. KV refuses TTLs under 60 s, so the record is written
    straight into the central store with an expiration a few seconds ahead."""
    for lifetime in (3, 10, 30):  # a loaded machine may take longer to cache it everywhere
        key = f"expiring-{lifetime}"
        expiration = asyncio.run(_put_expiring(cluster.store_url, key, seconds=lifetime))
        cached = [read(http, location, key, cacheTtl=300)[:2] for location in cluster.locations]
        if time.time() < expiration:  # every location cached it while it was alive
            break
    assert cached == [(200, "soon gone")] * 3
    # the clock the locations read: the expiration is a wall-clock moment, so is this wait
    time.sleep(max(0.0, expiration - time.time()) + 0.05)
    for location in cluster.locations:
        assert read(http, location, key, cacheTtl=300)[0] == 404


async def _put_expiring(store_url: str, key: str, *, seconds: int) -> int:
    """Write ``key`` to expire at least ``seconds`` from now; its expiration (epoch s)."""
    from edgekv.storage.postgres import PostgresStore

    store = PostgresStore(store_url)
    try:
        expiration = math.ceil(time.time()) + seconds  # whole seconds, as KV stores them
        await store.put(NAMESPACE_ID, key, b"soon gone", expiration=expiration)
        return expiration
    finally:
        await store.close()

def test_listen_connections_cut_then_caught_up(cluster: Cluster, http: httpx.Client) -> None:
    """Every location's connections (LISTEN included) are terminated by the server; a write
    made meanwhile still reaches every location: the listeners reconnect and catch up from
    the outbox (and would at worst be stale for the TTL)."""
    a, b, c = cluster.locations
    write(http, a, "cut", "before")
    for location in cluster.locations:
        assert read(http, location, "cut")[1] == "before"
    asyncio.run(_terminate_other_backends(cluster.store_url))
    # the writer's pool reconnects on demand; retry once if its pooled connection was cut
    wait_until(lambda: http.put(f"{a.url}/kv/cut", content="after").status_code == 200)
    for location in (b, c):
        wait_until(lambda loc=location: read(http, loc, "cut")[1] == "after", timeout=20)


def test_a_late_committing_write_is_not_skipped(cluster: Cluster, http: httpx.Client) -> None:
    """A transaction that took its version first but commits after a later write still
    reaches every cache."""
    a, _, _ = cluster.locations
    write(http, a, "late", "old")
    for location in cluster.locations:
        assert read(http, location, "late")[1] == "old"
    asyncio.run(_late_commit(cluster, http))
    for location in cluster.locations:
        wait_until(lambda loc=location: read(http, loc, "late")[1] == "late-commit")
        wait_until(lambda loc=location: read(http, loc, "early")[1] == "early-commit")


async def _late_commit(cluster: Cluster, http: httpx.Client) -> None:
    from edgekv.storage import Record
    from edgekv.storage.postgres import PostgresStore

    store = PostgresStore(cluster.store_url)
    try:
        conn = await store.connect()
        try:
            transaction = conn.transaction()
            await transaction.start()
            await store.write_in_transaction(conn, NAMESPACE_ID, [Record("late", b"late-commit", None, None)])
            # a later write commits first (through a location, in a thread: http is sync)
            await asyncio.to_thread(write, http, cluster.locations[1], "early", "early-commit")
            await transaction.commit()
        finally:
            await conn.close()
    finally:
        await store.close()


async def _terminate_other_backends(store_url: str) -> None:
    from edgekv.storage.postgres import PostgresStore

    store = PostgresStore(store_url)
    try:
        conn = await store.connect()
        try:
            cut = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'edgekv' AND pid <> pg_backend_pid()")
            assert cut >= 3  # at least one LISTEN connection per location
        finally:
            await conn.close()
    finally:
        await store.close()


def test_durable_object_calls_through_any_location_run_on_the_primary(cluster: Cluster, http: httpx.Client) -> None:
    a, b, c = cluster.locations
    primary_pid = a.process.pid  # type: ignore[union-attr]
    # RPC from every location reaches one object, in the primary's process
    answers = [http.get(f"{loc.url}/rpc/shared", params={"n": 10}).text for loc in (b, c, a, b)]
    assert [answer.split() for answer in answers] == [
        ["10", str(primary_pid)], ["20", str(primary_pid)], ["30", str(primary_pid)], ["40", str(primary_pid)]]
    # fetch: method, body, status and headers cross both ways
    reply = http.post(f"{c.url}/counter/page", content="hello")
    assert (reply.status_code, reply.text, reply.headers["x-counter"]) == (200, "1 POST hello", "1")
    assert http.get(f"{b.url}/counter/page").text == "2 GET "
    # the object's error comes back with its type and message
    failed = http.get(f"{b.url}/rpc-fail/shared")
    assert (failed.status_code, failed.text) == (500, "ValueError: the object said no")
    # a non-primary keeps no object state
    assert not list((cluster.root / "loc1").glob("**/do/**/*.sqlite3"))


def test_durable_object_calls_fail_fast_while_the_primary_is_down(cluster: Cluster, http: httpx.Client) -> None:
    """Runs last: it stops the primary (its lease is released on shutdown)."""
    a, b, _ = cluster.locations
    a.stop()
    started = time.monotonic()
    first = http.get(f"{b.url}/rpc/shared", params={"n": 1})
    second = http.get(f"{b.url}/rpc/shared", params={"n": 1})
    assert time.monotonic() - started < 5
    # b may still hold the lease it read a moment ago: then the primary is unreachable; the
    # next call looks again and finds no lease (released on shutdown)
    assert first.status_code == 500
    assert first.text.startswith((
        (f"DurableObjectError: the primary location 'loc0' ({a.url}) cannot be reached: "
         "ConnectError"),
        "DurableObjectError: Durable Objects run on the primary location, and no primary is up",
    )), first.text
    assert (second.status_code, second.text) == (
        500, ("DurableObjectError: Durable Objects run on the primary location, and no primary is "
              "up (no location holds the primary lease; start one with --primary)"))
    assert read(http, b, "greeting")[:2] == (200, "bonjour")  # KV is unaffected
