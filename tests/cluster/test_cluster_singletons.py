"""Singletons in a cluster of three real ``edgekv serve`` processes (tests/cluster/harness.py):
WebSocket upgrades to a Durable Object made at any location run on the primary (the other
locations forward them, docs/cluster.md), and cron triggers fire on the primary only.

Cron triggers fire on minute boundaries. So that the test does not wait up to a minute,
the three processes run with their wall clock shifted (a ``sitecustomize`` that offsets
``time.time``, the clock edgekv reads for crons, KV and the location registry alike) so
that a minute begins a few seconds after they start. All three share the offset, so they
agree with each other as a real cluster's NTP-synchronized locations do.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.cluster.harness import Cluster, Location
from tests.pg import PostgresCluster

# The first (shifted) minute boundary comes this long after the processes are launched:
# long enough for three processes to be up on a loaded CI machine.
LEAD_SECONDS = 15.0

SITECUSTOMIZE = """\
import os
import time

_offset = float(os.environ["EDGEKV_TEST_CLOCK_OFFSET"])
_real_time = time.time


def _shifted_time():
    return _real_time() + _offset


time.time = _shifted_time
"""


class Timed(Cluster):
    """The cluster, and when (real time) its shifted clock starts a minute."""

    boundary: float = 0.0
    offset: float = 0.0
    ready_at: float = 0.0


@pytest.fixture(scope="module")
def cluster(postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Timed]:
    root = tmp_path_factory.mktemp("singletons")
    shim = root / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SITECUSTOMIZE)
    boundary = time.time() + LEAD_SECONDS
    offset = -(boundary % 60.0)  # shifted, ``boundary`` is a whole minute
    if offset < -30.0:
        offset += 60.0
    path = os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH", "")) if p)
    env = {"EDGEKV_TEST_CLOCK_OFFSET": repr(offset), "PYTHONPATH": path}
    url = postgres_cluster.url(postgres_cluster.new_schema())
    running = Timed(url, root, crons=True, env=env)
    running.boundary, running.offset = boundary, offset
    with running:
        running.ready_at = time.time()
        yield running


def _ws(location: Location) -> str:
    return location.url.replace("http://", "ws://", 1)


async def _recv(socket: object) -> str:
    return await asyncio.wait_for(socket.recv(), 10)  # type: ignore[attr-defined, no-any-return]


async def _eventually(check: object, timeout: float = 10.0, seen: object = None) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` s saying what ``seen()`` shows."""
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            detail = "" if seen is None else f": {seen()}"  # type: ignore[operator]
            pytest.fail(f"not reached within {timeout} s{detail}")
        await asyncio.sleep(0.05)


async def test_a_websocket_to_an_object_through_any_location_runs_on_the_primary(cluster: Timed) -> None:
    a, b, c = cluster.locations
    pid = a.process.pid  # type: ignore[union-attr]
    async with connect(f"{_ws(b)}/room/lobby") as ann, connect(f"{_ws(c)}/room/lobby") as bob, \
            connect(f"{_ws(a)}/room/lobby") as cy:
        # one object, in the primary's process, holds all three sockets
        for socket in (ann, bob, cy):
            assert await _recv(socket) == f"welcome {pid}"
        await ann.send("hello from b")
        for socket in (ann, bob, cy):
            assert await _recv(socket) == f"hello from b {pid}"
        await cy.send("from a")
        for socket in (ann, bob, cy):
            assert await _recv(socket) == f"from a {pid}"
        # a client's close reaches the object with its code and reason
        await bob.close(4001, "bob leaves")
        async with httpx.AsyncClient(timeout=10) as http:
            async def recorded() -> bool:
                reply = await http.get(f"{b.url}/room-closed/lobby")
                return reply.text == "[4001, 'bob leaves']"

            await _eventually(recorded)
        await ann.send("still here")
        for socket in (ann, cy):
            assert await _recv(socket) == f"still here {pid}"
        # the object's close reaches the client with its code and reason
        await ann.send("bye")
        await asyncio.wait_for(ann.wait_closed(), 10)
        assert (ann.close_code, ann.close_reason) == (4000, "done")
    # an object that answers the upgrade with something else refuses the handshake with it
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{_ws(c)}/room/lobby?deny"):
            pass
    answer = refused.value.response
    assert (answer.status_code, answer.body, answer.headers["x-room"]) == (403, b"no room for you", "full")
    # the other locations keep no object state
    for name in ("loc1", "loc2"):
        assert not list((cluster.root / name).glob("**/do/**/*.sqlite3"))


async def test_cron_triggers_fire_on_the_primary_only(cluster: Timed) -> None:
    a, b, c = cluster.locations
    boundary = cluster.boundary
    now = time.time()  # the tests before this one may have used up the lead time too
    if max(cluster.ready_at, now) > boundary - 1.0:  # too late for it: the next minute it is
        boundary += 60.0 * math.ceil((max(cluster.ready_at, now) + 1.0 - boundary) / 60.0)
    await asyncio.sleep(max(0.0, boundary - time.time()))
    pids = [loc.process.pid for loc in (a, b, c)]  # type: ignore[union-attr]
    shifted_minute = round(boundary + cluster.offset)
    async with httpx.AsyncClient(timeout=10) as http:
        last: list[tuple[int, str]] = []

        async def fired() -> bool:
            reply = await http.get(f"{a.url}/kv/cron:{pids[0]}")
            last[:] = [(reply.status_code, reply.text)]
            # scheduledTime: the planned minute, in ms. Waiting for that value, not for the key:
            # when the lead time was used up, the primary already fired at an earlier minute,
            # and its value is read back until this minute's write has landed (a read during
            # a put answers the old value, as on Workers KV).
            return reply.status_code == 200 and float(reply.text) == shifted_minute * 1000

        def seen() -> str:
            log = "".join(line for line in a.output if "Scheduled event" in line)
            return f"cron:{pids[0]} answered {last}, expected {shifted_minute * 1000}; primary:\n{log}"

        # bounded by the condition, generously: on a loaded machine the write may take a while
        await _eventually(fired, timeout=30, seen=seen)
        # every location was up at that minute; had they fired, their write would be there by now
        # (a negative: a slow machine can only make it pass wrongly, never fail wrongly)
        await asyncio.sleep(2.0)
        for location in (a, b, c):
            for pid in pids[1:]:
                assert (await http.get(f"{location.url}/kv/cron:{pid}")).status_code == 404
        for location in (b, c):  # nor did they start one that failed
            assert not [line for line in location.output if "Scheduled event" in line]


async def test_forwarded_websockets_close_when_the_primary_stops(cluster: Timed) -> None:
    """Runs last: it stops the primary."""
    a, b, _ = cluster.locations
    async with connect(f"{_ws(b)}/room/late") as socket:
        assert (await _recv(socket)).startswith("welcome ")
        await asyncio.get_running_loop().run_in_executor(None, a.stop)
        await asyncio.wait_for(socket.wait_closed(), 15)
        assert socket.close_code not in (None, 1006)  # a close frame, not a dropped connection
    started = time.monotonic()
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{_ws(b)}/room/late"):
            pass
    assert time.monotonic() - started < 5
    answer = refused.value.response
    assert answer.status_code == 500
    assert answer.body.startswith(b"DurableObjectError: "), answer.body

