"""What only the ``postgresql://`` store does: versions, tombstones, the outbox and its
``NOTIFY``, the change listener (reconnect, catch-up, the out-of-order commit trap, trimming),
replica reads after a notice, failing fast with the server down, and the location registry.

Everything runs against the session's real PostgreSQL cluster (tests/pg.py); each test works
in a schema of its own.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from tests.pg import PostgresCluster

from edgekv.clock import FakeClock
from edgekv.errors import BackendUnavailable, PrimaryLeaseHeld, StorageError
from edgekv.storage import Record, open_store
from edgekv.storage.postgres import (
    Change,
    ChangeListener,
    LocationRegistry,
    PostgresStore,
)

S = "space-1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
async def store(pg_url: str, clock: FakeClock) -> AsyncIterator[PostgresStore]:
    s = PostgresStore(pg_url, clock)
    yield s
    await s.close()


@pytest.fixture
async def other(pg_url: str, clock: FakeClock) -> AsyncIterator[PostgresStore]:
    """A second location's store on the same schema."""
    s = PostgresStore(pg_url, clock)
    yield s
    await s.close()


class Collector:
    """A listener callback that records what it is given."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.resets = 0
        self.arrived = asyncio.Event()

    def __call__(self, changes: list[Change]) -> None:
        self.changes.extend(changes)
        self.arrived.set()

    def reset(self) -> None:
        self.resets += 1
        self.arrived.set()

    def changed_keys(self) -> list[str | None]:
        """The key of each change received, in order, repeats included (a list, not a dict view)."""
        return [c.key for c in self.changes]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out; got {len(self.changes)} changes, last {self.changes[-3:]!r}"
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 0.5))
            except TimeoutError:
                pass


@pytest.fixture
async def listen(store: PostgresStore) -> AsyncIterator[Callable[..., Awaitable[tuple[ChangeListener, Collector]]]]:
    started: list[ChangeListener] = []

    async def make(target: PostgresStore | None = None, **options: float) -> tuple[ChangeListener, Collector]:
        collector = Collector()
        listener = ChangeListener(target or store, collector, collector.reset, **options)
        await listener.start()
        started.append(listener)
        return listener, collector

    yield make
    for listener in started:
        await listener.stop()


async def row(store: PostgresStore, space: str, key: str) -> asyncpg.Record | None:
    conn = await store.connect()
    try:
        return await conn.fetchrow(
            "SELECT e.value, e.version FROM entries e JOIN spaces s ON s.id = e.space "
            "WHERE s.name = $1 AND e.key = $2", space, key.encode(),
        )
    finally:
        await conn.close()


# -- versions and tombstones -------------------------------------------------------------------


async def test_every_write_takes_a_higher_version_and_deletes_leave_tombstones(
    store: PostgresStore,
) -> None:
    await store.put(S, "k", b"1")
    first = await row(store, S, "k")
    await store.put(S, "k", b"2")
    second = await row(store, S, "k")
    assert first is not None and second is not None and second["version"] > first["version"]
    assert await store.delete(S, "k") is True
    tomb = await row(store, S, "k")
    assert tomb is not None and tomb["value"] is None and tomb["version"] > second["version"]
    assert await store.get(S, "k") is None
    assert await store.scan(S) == [] and await store.get_many(S, ["k"]) == {}
    assert await store.delete(S, "k") is False  # deleting a tombstone removes nothing live
    await store.put(S, "k", b"3")
    assert await store.get(S, "k") == Record("k", b"3")


async def test_last_writer_by_version_wins_between_locations(
    store: PostgresStore, other: PostgresStore
) -> None:
    """Location A takes a version, then waits (a row lock holds it back); location B writes
    the same key with a higher version and commits first. A's older write must not win."""
    await store.put(S, "held", b"x")
    await store.put(S, "k", b"original")
    locker = await store.connect()
    try:
        tx = locker.transaction()
        await tx.start()
        await locker.execute(
            "SELECT 1 FROM entries WHERE key = $1 FOR UPDATE", b"held"
        )
        # A: version taken, then blocked on "held" before it reaches "k".
        a = asyncio.create_task(store.write_batch(S, puts=[Record("k", b"from A")], deletes=["held"]))
        await asyncio.sleep(0.3)
        assert not a.done()
        await other.put(S, "k", b"from B")  # B: a higher version, committed first
        await tx.rollback()
        await asyncio.wait_for(a, 10)
    finally:
        await locker.close()
    assert (await store.get(S, "k")).value == b"from B"  # type: ignore[union-attr]
    assert await store.get(S, "held") is None  # A's other change did apply
    conn = await store.connect()
    try:
        ops = await conn.fetch("SELECT key, op FROM changes ORDER BY seq")
    finally:
        await conn.close()
    # A announced only what it wrote: its losing put of "k" is not in the outbox.
    assert [(bytes(k), op) for k, op in ops][-2:] == [(b"k", "put"), (b"held", "delete")]


async def test_versioned_reads_return_the_version_of_the_latest_change(
    store: PostgresStore, clock: FakeClock
) -> None:
    """The edge cache's optional ``VersionedStore`` protocol (edgekv.edge.versions)."""
    assert await store.get_versioned(S, "k") == (None, 0)
    v1 = await store.put_versioned(S, "k", b"1", metadata='"m"')
    assert await store.get_versioned(S, "k") == (Record("k", b"1", None, '"m"'), v1)
    removed, v2 = await store.delete_versioned(S, "k")
    assert removed and v2 > v1
    assert await store.get_versioned(S, "k") == (None, v2)  # the tombstone's version
    v3 = await store.put_versioned(S, "e", b"", expiration=1010)
    clock.advance(10)
    both = await store.get_many_versioned(S, ["k", "e", "never"])
    assert both == {"k": (None, v2), "e": (None, v3), "never": (None, 0)}
    assert both["e"].version == v3  # named like edgekv.edge.Versioned


# -- the outbox and NOTIFY ---------------------------------------------------------------------


async def test_outbox_rows_are_announced_at_commit(store: PostgresStore) -> None:
    await store.put(S, "warm-up", b"")  # creates the schema
    conn = await store.connect()
    payloads: asyncio.Queue[str] = asyncio.Queue()
    await conn.add_listener(store.channel, lambda *args: payloads.put_nowait(args[3]))
    try:
        await store.put(S, "k\u0000é", b"v")
        notice = json.loads(await asyncio.wait_for(payloads.get(), 5))
        seq, space, key, op = notice["c"][0]
        assert (space, key, op) == (S, "k\u0000é", "put")
        stored = await conn.fetchrow("SELECT space, key, version, op FROM changes WHERE seq = $1", seq)
        assert bytes(stored["key"]).decode() == "k\u0000é" and stored["version"] == notice["v"]

        # A batch is one transaction: one notice, one version, deletes and puts in order.
        await store.write_batch(S, puts=[Record("a", b"1"), Record("b", b"2")], deletes=["warm-up"])
        notice = json.loads(await asyncio.wait_for(payloads.get(), 5))
        assert [(c[2], c[3]) for c in notice["c"]] == [("warm-up", "delete"), ("a", "put"), ("b", "put")]

        # A failing batch leaves neither data, nor outbox rows, nor a notice.
        before = await conn.fetchval("SELECT count(*) FROM changes")

        def exploding():
            yield Record("c", b"3")
            raise ValueError("boom")

        with pytest.raises(ValueError, match="boom"):
            await store.write_batch(S, puts=exploding())
        assert await conn.fetchval("SELECT count(*) FROM changes") == before
        assert await store.get(S, "c") is None
        await store.drop_space(S)
        notice = json.loads(await asyncio.wait_for(payloads.get(), 5))
        assert [(c[1], c[2], c[3]) for c in notice["c"]] == [(S, None, "drop")]
        assert payloads.empty()
    finally:
        await conn.close()


# -- the change listener --------------------------------------------------------------------


async def test_listener_delivers_every_kind_of_change_once(store: PostgresStore, listen) -> None:
    listener, got = await listen()
    await store.put(S, "a", b"1")
    await store.delete(S, "a")
    await store.write_batch(S, puts=[Record("b", b"2")])
    await store.create_namespace("n" * 32, "title")
    await store.put("n" * 32, "x", b"")
    await store.delete_namespace("n" * 32)
    # 300 long keys: too long for one NOTIFY payload, so the listener reads the outbox.
    big = [Record(f"{i:04d}" + "k" * 100, b"") for i in range(300)]
    await store.write_batch(S, puts=big)
    await got.wait_for(lambda: len(got.changes) >= 305)
    await listener.sync()  # a periodic catch-up must not deliver anything twice
    assert [(c.space, c.key, c.op) for c in got.changes[:6]] == [
        (S, "a", "put"), (S, "a", "delete"), (S, "b", "put"),
        ("n" * 32, "x", "put"), ("n" * 32, None, "drop"), (S, big[0].key, "put"),
    ]
    assert len(got.changes) == 305 and len({c.seq for c in got.changes}) == 305
    versions = [c.version for c in got.changes[:5]]
    assert versions == sorted(versions) and len(set(versions)) == 5


class RecordingInvalidator:
    """Stands in for ``edgekv.edge.Invalidator`` (another helper's layer): records calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def apply_notice(self, space: str, key: str, version: int | None, *,
                     committed_at: float | None = None) -> bool:
        self.calls.append(("notice", space, key, version, committed_at))
        return True

    def drop_space(self, space: str) -> int:
        self.calls.append(("space", space))
        return 0

    def drop_all(self) -> int:
        self.calls.append(("all",))
        return 0


async def test_a_listener_feeds_an_edge_invalidator(store: PostgresStore, clock: FakeClock) -> None:
    target = RecordingInvalidator()
    listener = ChangeListener.for_invalidator(store, target)
    await listener.start()
    try:
        version = await store.put_versioned(S, "k", b"")
        await store.drop_space(S)
        deadline = time.monotonic() + 10
        while len(target.calls) < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await listener.stop()
        await store.put(S, "missed", b"")
        clock.advance(store.outbox_retention + 1)
        await store.trim()
        await listener.start()
    finally:
        await listener.stop()
    assert target.calls == [("notice", S, "k", version, 1000.0), ("space", S), ("all",)]


async def test_listener_catches_up_after_its_connection_is_cut(
    store: PostgresStore, other: PostgresStore, listen
) -> None:
    listener, got = await listen(reconnect_delay=0.3)
    await other.put(S, "before", b"")
    await got.wait_for(lambda: "before" in got.changed_keys())
    pid = listener.server_pid
    admin = await store.connect()
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    deadline = time.monotonic() + 5
    while listener.connected and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert not listener.connected
    # Written while the location hears nothing: found by the catch-up after reconnecting.
    await other.put(S, "during", b"")
    await other.delete(S, "before")
    await listener.wait_connected(10)
    await got.wait_for(
        lambda: got.changed_keys().count("before") == 2 and "during" in got.changed_keys())
    assert listener.connections == 2 and listener.server_pid != pid
    await other.put(S, "after", b"")
    await got.wait_for(lambda: "after" in got.changed_keys())
    assert got.changed_keys() == ["before", "during", "before", "after"]


async def test_a_late_commit_with_a_lower_seq_is_not_skipped(store: PostgresStore, listen) -> None:
    """The out-of-order commit trap (docs/postgresql.md): T1 takes seq 1 and commits after T2
    took seq 2 and was seen. A listener that missed T1's notice and resumed from "seq > 2"
    would never learn of T1."""
    listener, got = await listen()
    await store.put(S, "warm-up", b"")
    await got.wait_for(lambda: "warm-up" in got.changed_keys())
    slow = await store.connect()
    try:
        tx = slow.transaction()
        await tx.start()
        (late_seq,) = await store.write_in_transaction(slow, S, puts=[Record("late", b"")])
        await store.put(S, "early", b"")  # seq > late_seq, committed first
        await got.wait_for(lambda: "early" in got.changed_keys())
        early_seq = got.changes[-1].seq
        assert late_seq < early_seq
        await listener.sync()  # a catch-up while T1 is still running
        await listener.stop()  # the location misses T1's notice
        await tx.commit()
    finally:
        await slow.close()
    await listener.start()
    await got.wait_for(lambda: "late" in got.changed_keys())
    assert [c.seq for c in got.changes if c.key == "late"] == [late_seq]
    assert got.resets == 0


async def test_a_rolled_back_seq_does_not_stall_the_listener(store: PostgresStore, listen) -> None:
    listener, got = await listen()
    slow = await store.connect()
    try:
        tx = slow.transaction()
        await tx.start()
        await store.write_in_transaction(slow, S, puts=[Record("never", b"")])
        await store.put(S, "one", b"")
        await listener.sync()
        await tx.rollback()  # leaves a hole in the sequence for ever
    finally:
        await slow.close()
    await listener.sync()
    await store.put(S, "two", b"")
    await got.wait_for(lambda: "two" in got.changed_keys())
    await listener.sync()
    assert got.changed_keys() == ["one", "two"]
    assert listener._seen <= {c.seq for c in got.changes}  # forgotten once final


async def test_listener_resets_when_the_outbox_was_trimmed_past_it(
    store: PostgresStore, clock: FakeClock, listen
) -> None:
    listener, got = await listen()
    await store.put(S, "seen", b"")
    await got.wait_for(lambda: "seen" in got.changed_keys())
    await listener.stop()
    await store.put(S, "missed", b"")
    clock.advance(store.outbox_retention + 1)
    tombstones, trimmed = await store.trim()
    assert trimmed == 2 and tombstones == 0
    await listener.start()
    await got.wait_for(lambda: got.resets == 1)
    assert "missed" not in got.changed_keys()  # it cannot know: the caller drops its whole cache
    await store.put(S, "later", b"")
    await got.wait_for(lambda: "later" in got.changed_keys())
    assert got.resets == 1


async def test_trimming_removes_old_tombstones_and_changes_only(
    store: PostgresStore, clock: FakeClock
) -> None:
    await store.put(S, "gone", b"")
    await store.delete(S, "gone")
    await store.put(S, "expiring", b"", expiration=1010)
    clock.advance(100)
    assert await store.purge_expired() == 1
    assert await row(store, S, "gone") is not None  # the tombstone is still in its grace period
    clock.advance(store.tombstone_grace)
    await store.put(S, "fresh", b"")
    assert await store.purge_expired() == 0
    assert await row(store, S, "gone") is None
    conn = await store.connect()
    try:
        left = [bytes(k).decode() for (k,) in await conn.fetch("SELECT key FROM changes")]
    finally:
        await conn.close()
    assert left == ["fresh"]
    assert await store.get(S, "fresh") == Record("fresh", b"")


# -- a location reading from a streaming replica ----------------------------------------------


async def test_a_read_after_a_notice_never_returns_an_older_version(
    postgres_cluster: PostgresCluster, pg_url: str, other: PostgresStore, clock: FakeClock, listen
) -> None:
    replica_port = postgres_cluster.start_replica()
    schema = pg_url.rsplit("schema=", 1)[1]
    edge = PostgresStore(pg_url, clock, read_url=postgres_cluster.url(schema, port=replica_port),
                         replica_wait=0.3)
    replica = await asyncpg.connect(postgres_cluster.dsn(replica_port), server_settings={"search_path": schema})
    try:
        await other.put(S, "k", b"old")
        _listener, got = await listen(edge)
        assert await edge.get(S, "k") == Record("k", b"old")  # served by the replica
        await replica.execute("SELECT pg_wal_replay_pause()")
        try:
            await other.put(S, "k", b"new")  # another location writes
            await got.wait_for(lambda: got.changes and got.changes[-1].key == "k")
            # The replica has not replayed the write ...
            assert await replica.fetchval(
                "SELECT value FROM entries WHERE key = $1", b"k") == b"old"
            # ... so a read after the notice goes to the primary rather than return "old".
            started = time.monotonic()
            assert await edge.get(S, "k") == Record("k", b"new")
            assert [r.key for r in await edge.scan(S, values=True)] == ["k"]
            assert time.monotonic() - started < 3
            # A location's own write is read back too.
            await edge.put(S, "mine", b"1")
            assert await edge.get(S, "mine") == Record("mine", b"1")
        finally:
            await replica.execute("SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 10
        while await replica.fetchval("SELECT value FROM entries WHERE key = $1", b"k") != b"new":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert await edge.get(S, "k") == Record("k", b"new")
        assert edge._replica_seen >= edge._read_floor  # back to reading the replica
    finally:
        await replica.close()
        await edge.close()


# -- failures --------------------------------------------------------------------------------


async def test_a_server_that_never_answers_fails_within_the_connect_timeout() -> None:
    """A black hole (accepts TCP, says nothing): no hang, a StorageError in bounded time."""
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(8)
    port = sink.getsockname()[1]
    store = PostgresStore(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            await store.get(S, "k")
        assert time.monotonic() - started < 3
        assert not isinstance(caught.value.__cause__, StorageError)
    finally:
        await store.close()
        sink.close()


async def test_with_the_server_stopped_calls_fail_fast_and_recover(
    postgres_cluster: PostgresCluster, store: PostgresStore, listen
) -> None:
    listener, got = await listen(reconnect_delay=0.2, max_reconnect_delay=0.5)
    await store.put(S, "k", b"v")
    await got.wait_for(lambda: "k" in got.changed_keys())
    postgres_cluster.stop_primary()
    try:
        for call in (
            lambda: store.get(S, "k"),
            lambda: store.put(S, "k", b"w"),
            lambda: store.scan(S),
            lambda: store.list_namespaces(),
            lambda: store.write_batch(S, puts=[Record("x", b"")]),
        ):
            started = time.monotonic()
            with pytest.raises(StorageError) as caught:
                await call()
            assert time.monotonic() - started < 2
            assert isinstance(caught.value.__cause__, (asyncpg.PostgresError, asyncpg.InterfaceError, OSError))
        deadline = time.monotonic() + 5
        while listener.connected and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert not listener.connected
    finally:
        postgres_cluster.start_primary()
    await store.put(S, "k", b"again")  # the pool reconnects
    assert await store.get(S, "k") == Record("k", b"again")
    await listener.wait_connected(15)
    await got.wait_for(lambda: got.changed_keys().count("k") == 2)


async def test_missing_asyncpg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith("edgekv.storage.postgres")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    with pytest.raises(BackendUnavailable, match=r"edgekv\[postgres\]"):
        open_store("postgresql://localhost/x")
    with pytest.raises(BackendUnavailable, match="read store"):
        open_store("memory://", read_url="postgresql://localhost/x")


async def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    stores = [PostgresStore(pg_url) for _ in range(4)]
    try:
        await asyncio.gather(*(s.put(S, f"k{i}", b"") for i, s in enumerate(stores)))
        assert len(await stores[0].scan(S)) == 4
    finally:
        for s in stores:
            await s.close()


# -- the location registry and the primary lease ----------------------------------------------


async def test_locations_register_and_send_heartbeats(store: PostgresStore, clock: FakeClock) -> None:
    registry = LocationRegistry(store)
    await registry.register_location("fra", "http://fra:8787")
    clock.advance(10)
    await registry.register_location("ams", "http://ams:8787")
    clock.advance(50)
    assert await registry.heartbeat("ams") is True
    assert await registry.heartbeat("nowhere") is False
    every = await registry.list_locations()
    assert [(l.name, l.url, l.heartbeat_at) for l in every] == [
        ("ams", "http://ams:8787", 1060.0), ("fra", "http://fra:8787", 1000.0),
    ]
    assert [l.name for l in await registry.list_locations(alive_within=30)] == ["ams"]
    # Seen from another location's store: the registry is shared.
    await registry.unregister_location("fra")
    assert [l.name for l in await registry.list_locations()] == ["ams"]


async def test_a_second_primary_refuses_to_start(
    store: PostgresStore, other: PostgresStore, clock: FakeClock
) -> None:
    first, second = LocationRegistry(store), LocationRegistry(other)
    lease = await first.acquire_primary_lease("fra", "http://fra:8787", "secret-1", ttl=30)
    assert (lease.holder, lease.credential, lease.expires_at) == ("fra", "secret-1", 1030.0)
    with pytest.raises(PrimaryLeaseHeld) as held:
        await second.acquire_primary_lease("ams", "http://ams:8787", "secret-2", ttl=30)
    assert held.value.holder == "fra" and "http://fra:8787" in str(held.value)
    clock.advance(20)
    renewed = await first.acquire_primary_lease("fra", "http://fra:8787", "secret-1", ttl=30)
    assert renewed.acquired_at == 1000.0 and renewed.expires_at == 1050.0
    assert (await second.primary()) == renewed
    clock.advance(31)  # the primary stopped renewing: its lease expires and may be taken
    assert await second.primary() is None
    taken = await second.acquire_primary_lease("ams", "http://ams:8787", "secret-2", ttl=30)
    assert taken.holder == "ams" and taken.acquired_at == 1051.0
    assert await first.release_primary_lease("fra") is False
    assert await second.release_primary_lease("ams") is True
    assert await first.primary() is None
    await first.acquire_primary_lease("fra", "http://fra:8787", "secret-3")
