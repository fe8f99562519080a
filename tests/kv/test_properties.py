"""Property tests: ``KVNamespace`` over every storage backend agrees with a tiny model.

A hypothesis state machine drives one fresh store per example (``memory://`` or a SQLite
file in a temporary directory) with a ``FakeClock``, through random puts (optional metadata,
``expirationTtl`` or ``expiration``), deletes, clock advances, point and bulk reads, and
paginated lists walked to the end by cursor, and compares every answer with a plain dict.
The model's only rules: a put replaces the whole entry; an entry with ``expiration <= now``
is gone everywhere; list order is the UTF-8 byte order of the names.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from edgekv.clock import FakeClock
from edgekv.kv import KVNamespace
from edgekv.limits import TESTING_LIMITS
from edgekv.storage import Store, open_store

NAMESPACE = "0123456789abcdef0123456789abcdef"

# A small alphabet so that keys collide, share prefixes and span 1- to 4-byte UTF-8;
# no digits, so no key is a canonical array index (which bulk get leaves out, docs/kv-binding.md §8).
ALPHABET = ["a", "b", "A", "/", ".", " ", "\u0000", "\u00e9", "\uffff", "\U0001f600"]
keys = st.text(st.sampled_from(ALPHABET), min_size=1, max_size=4).filter(
    lambda k: k not in (".", "..")
)
prefixes = st.one_of(st.just(""), st.text(st.sampled_from(ALPHABET), min_size=1, max_size=2))
values = st.one_of(st.binary(max_size=40), st.text(max_size=20).map(lambda t: t.encode()))
json_scalars = st.one_of(
    st.booleans(), st.integers(-1000, 1000), st.text(max_size=8)
)  # falsy metadata (0, False, "") is stored and returned
metadatas = st.one_of(
    st.none(),
    json_scalars,
    st.lists(json_scalars, max_size=3),
    st.dictionaries(st.text(max_size=4), json_scalars, max_size=3),
)
# How an expiry is requested: none, a TTL (>= 60 s), or an absolute time (>= now + 60 s).
expiries = st.one_of(
    st.none(),
    st.tuples(st.just("ttl"), st.integers(60, 400)),
    st.tuples(st.just("at"), st.integers(60, 400)),
)
advances = st.sampled_from([0.25, 0.5, 0.75, 1, 1.5, 59, 60, 61, 119.5, 200, 1000])
limits = st.integers(1, 6)


@dataclass(frozen=True)
class Entry:
    value: bytes
    expiration: int | None
    metadata: Any


def utf8(key: str) -> bytes:
    return key.encode("utf-8")


class KVModelMachine(RuleBasedStateMachine):
    """Compare one backend, through ``KVNamespace``, with a dict of ``Entry``."""

    backend = "memory"
    names = Bundle("names")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.mkdtemp(prefix="edgekv-prop-")
        self.clock = FakeClock(1_000_000.25)  # a fractional start: now is floored for TTLs
        if self.backend == "postgres":  # a fresh schema on the session's cluster per example
            cluster = PostgresMachine.cluster
            assert cluster is not None, "the postgres_cluster fixture did not run"
            url = cluster.url(cluster.new_schema())
        else:
            url = "memory://" if self.backend == "memory" else f"sqlite:///{self.tmp}/kv.sqlite3"
        self.store: Store = open_store(url, clock=self.clock)
        self.kv = KVNamespace(self.store, NAMESPACE, limits=TESTING_LIMITS)
        self.model: dict[str, Entry] = {}
        self.paused: tuple[str, int, str, str] | None = None  # prefix, limit, cursor, last key

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self.run(self.store.close())
            self.run(self.loop.shutdown_default_executor())
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the model ------------------------------------------------------------------------

    def live(self, key: str) -> Entry | None:
        entry = self.model.get(key)
        if entry is None or (entry.expiration is not None and entry.expiration <= self.clock.now()):
            return None
        return entry

    def expected_listing(self, prefix: str, after: str = "") -> list[dict[str, Any]]:
        rows = []
        for key in sorted(self.model, key=utf8):
            entry = self.live(key)
            if entry is None or not key.startswith(prefix) or utf8(key) <= utf8(after):
                continue
            row: dict[str, Any] = {"name": key}
            if entry.expiration is not None:
                row["expiration"] = entry.expiration
            if entry.metadata is not None:
                row["metadata"] = entry.metadata
            rows.append(row)
        return rows

    # -- writes ---------------------------------------------------------------------------

    @initialize()
    def register(self) -> None:
        self.run(self.store.ensure_namespace(NAMESPACE, "props"))

    @rule(target=names, key=keys, value=values, metadata=metadatas, expiry=expiries)
    def put(self, key: str, value: bytes, metadata: Any, expiry: Any) -> str:
        options: dict[str, Any] = {}
        expiration = None
        now = int(self.clock.now())
        if expiry is not None:
            kind, seconds = expiry
            expiration = now + seconds
            options["expirationTtl" if kind == "ttl" else "expiration"] = (
                seconds if kind == "ttl" else expiration
            )
        if metadata is not None:
            options["metadata"] = metadata
        self.run(self.kv.put(key, value, options))
        self.model[key] = Entry(value, expiration, metadata)
        return key

    @rule(key=st.one_of(names, keys))
    def delete(self, key: str) -> None:
        self.run(self.kv.delete(key))
        self.model.pop(key, None)

    @rule(seconds=advances)
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(key=names, offset=st.sampled_from([-0.001, 0.0, 0.0, 0.001]))
    def advance_to_expiry(self, key: str, offset: float) -> None:
        """Land right on an entry's expiration, where `expiration <= now` starts to hold."""
        entry = self.model.get(key)
        if entry is not None and entry.expiration is not None:
            target = entry.expiration + offset
            if target > self.clock.now():
                self.clock.set(target)

    @rule()
    def purge(self) -> None:
        """Reclaiming expired rows changes nothing visible."""
        self.run(self.store.purge_expired())

    # -- reads ----------------------------------------------------------------------------

    @rule(key=st.one_of(names, keys))
    def get(self, key: str) -> None:
        entry = self.live(key)
        raw = self.run(self.kv.get(key, "arrayBuffer"))
        got = self.run(self.kv.getWithMetadata(key, "arrayBuffer"))
        if entry is None:
            assert raw is None
            assert got == {"value": None, "metadata": None, "cacheStatus": None}
        else:
            assert bytes(raw) == entry.value
            assert bytes(got["value"]) == entry.value
            assert got["metadata"] == entry.metadata

    @rule(wanted=st.lists(st.one_of(names, keys), min_size=1, max_size=8))
    def get_bulk(self, wanted: list[str]) -> None:
        got = self.run(self.kv.get(wanted))
        expected = {}
        for key in wanted:
            entry = self.live(key)
            expected[key] = None if entry is None else entry.value.decode("utf-8", "replace")
        assert got == expected
        assert list(got) == list(dict.fromkeys(wanted))  # request order, duplicates merged

    @rule(prefix=prefixes, limit=limits)
    def list_all_pages(self, prefix: str, limit: int) -> None:
        listed: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(1000):
            page = self.run(self.kv.list({"prefix": prefix, "limit": limit, "cursor": cursor}))
            assert len(page["keys"]) <= limit
            listed.extend(dict(k) for k in page["keys"])
            if page["list_complete"]:
                assert "cursor" not in page
                break
            assert len(page["keys"]) == limit  # Miniflare never returns a short middle page
            cursor = page["cursor"]
        else:
            raise AssertionError("list never completed")
        assert listed == self.expected_listing(prefix)

    @rule(prefix=prefixes, limit=limits)
    def list_first_page(self, prefix: str, limit: int) -> None:
        """Start a listing and leave it paused, to resume after more writes."""
        page = self.run(self.kv.list(prefix=prefix, limit=limit))
        expected = self.expected_listing(prefix)
        assert [dict(k) for k in page["keys"]] == expected[:limit]
        assert page["list_complete"] == (len(expected) <= limit)
        if not page["list_complete"]:
            self.paused = (prefix, limit, page["cursor"], page["keys"][-1]["name"])

    @precondition(lambda self: self.paused is not None)
    @rule()
    def list_resume(self) -> None:
        """A cursor means "strictly after this key", whatever was written meanwhile."""
        assert self.paused is not None
        prefix, limit, cursor, last = self.paused
        page = self.run(self.kv.list(prefix=prefix, limit=limit, cursor=cursor))
        expected = self.expected_listing(prefix, after=last)
        assert [dict(k) for k in page["keys"]] == expected[:limit]
        assert page["list_complete"] == (len(expected) <= limit)
        self.paused = None

    @invariant()
    def list_without_options_is_everything(self) -> None:
        page = self.run(self.kv.list())
        assert [dict(k) for k in page["keys"]] == self.expected_listing("")
        assert page["list_complete"] is True


class MemoryMachine(KVModelMachine):
    backend = "memory"


class SqliteMachine(KVModelMachine):
    backend = "sqlite"


class PostgresMachine(KVModelMachine):
    backend = "postgres"
    cluster: Any = None  # the session's PostgresCluster, set by _postgres_machine_cluster


@pytest.fixture
def _postgres_machine_cluster(postgres_cluster: Any) -> None:
    PostgresMachine.cluster = postgres_cluster


_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestMemoryAgreesWithModel = MemoryMachine.TestCase
TestMemoryAgreesWithModel.settings = _SETTINGS
TestSqliteAgreesWithModel = SqliteMachine.TestCase
TestSqliteAgreesWithModel.settings = _SETTINGS
# Fewer examples on PostgreSQL: every step is a few network round trips.
TestPostgresAgreesWithModel = pytest.mark.usefixtures("_postgres_machine_cluster")(
    PostgresMachine.TestCase
)
TestPostgresAgreesWithModel.settings = settings(_SETTINGS, max_examples=12)
