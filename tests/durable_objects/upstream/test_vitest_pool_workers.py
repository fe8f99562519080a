"""workers-sdk ``fixtures/vitest-plugin-examples/durable-objects`` (vitest-pool-workers), translated.

The fixture's ``Counter`` is written in Python below; ``cloudflare:test`` helpers are
``edgekv.testing.durable_objects``. Responses are plain strings (no ``Request`` at this layer).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest

from edgekv.runtime.web.websocket import WebSocket, WebSocketPair
from edgekv.testing import durable_objects as do

from ..conftest import DurableObject, MakeRuntime

SRC = "workers-sdk fixtures/vitest-plugin-examples/durable-objects/test"


class Counter(DurableObject):
    """src/index.ts ``Counter``."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.count = 0
        self.web_socket_messages: list[str] = []

        async def load() -> None:
            self.count = await ctx.storage.get("count") or 0

        ctx.blockConcurrencyWhile(load)

    def increment(self, by: int = 1) -> None:
        self.count += by
        self.ctx.storage.put("count", self.count)  # not awaited, as upstream (`void`)

    def fetch(self, request: Any) -> Any:
        path = urlparse(request).path
        if path == "/websocket-order":  # a hibernatable socket; the client end is the response
            client, server = WebSocketPair.new().object_values()
            self.ctx.acceptWebSocket(server)
            return client
        if path == "/websocket-order-log":
            return list(self.web_socket_messages)
        if request == "/redirect":
            return "302 https://example.com/redirected"
        self.increment()
        return str(self.count)

    def alarm(self) -> None:
        self.count = 0
        self.ctx.storage.put("count", self.count)

    def scheduleReset(self, after_millis: int) -> None:
        self.ctx.storage.setAlarm(self._now_ms() + after_millis)

    def _now_ms(self) -> int:
        return int(self.env["clock"].now() * 1000)

    def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        value = message if isinstance(message, str) else message.decode()
        self.web_socket_messages.append(value)
        ws.send(value)


class OptionalWebSocketHandlers(DurableObject):
    """src/index.ts ``OptionalWebSocketHandlers``: ``webSocketMessage`` only (no close or
    error handler, which workerd treats as optional)."""

    def fetch(self, request: Any) -> WebSocket:
        client, server = WebSocketPair.new().object_values()
        self.ctx.acceptWebSocket(server)
        return client

    def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        value = message if isinstance(message, str) else message.decode()
        ws.send(f"echo:{value}")


class SQLiteDurableObject(DurableObject):
    def fetch(self, request: Any) -> str:
        return str(self.ctx.storage.sql.databaseSize)


async def _counter(make_runtime: MakeRuntime, clock: Any) -> Any:
    rt = await make_runtime()
    rt.set_env({"clock": clock})
    return rt.namespace("COUNTER", Counter, unique_key="w-Counter")


async def test_immediately_executes_alarm(make_runtime: MakeRuntime, clock: Any) -> None:
    """alarm.test.ts: "immediately executes alarm"."""
    counter = await _counter(make_runtime, clock)
    stub = counter.get(counter.newUniqueId())

    def schedule(instance: Counter, _state: Any) -> None:
        instance.increment(3)
        instance.scheduleReset(60_000)

    await do.run_in_durable_object(stub, schedule)
    assert await stub.fetch("http://placeholder") == "4"
    assert await do.run_durable_object_alarm(stub) is True
    assert await stub.fetch("http://placeholder") == "1"
    assert await do.run_durable_object_alarm(stub) is False


async def test_redirect_from_run_in_durable_object(make_runtime: MakeRuntime, clock: Any) -> None:
    """direct-access.test.ts: "handles redirect responses returned from runInDurableObject"."""
    counter = await _counter(make_runtime, clock)
    stub = counter.get(counter.idFromName("/redirect-test"))
    result = await do.run_in_durable_object(stub, lambda inst, _s: inst.fetch("/redirect"))
    assert result == "302 https://example.com/redirected"


async def test_direct_access_to_instance_and_storage(make_runtime: MakeRuntime, clock: Any) -> None:
    """direct-access.test.ts: "increments count and allows direct access to instance/storage"."""
    counter = await _counter(make_runtime, clock)
    object_id = counter.idFromName("/path")
    stub = counter.get(object_id)
    assert await stub.fetch("https://example.com/path") == "1"
    response = await do.run_in_durable_object(
        stub, lambda inst, _s: (isinstance(inst, Counter), inst.fetch("https://example.com/path"))
    )
    assert response == (True, "2")

    async def check(instance: Counter, state: Any) -> None:
        assert instance.count == 2
        assert await state.storage.get("count") == 2

    await do.run_in_durable_object(stub, check)
    ids = do.list_durable_object_ids(counter)
    assert object_id.toString() in [i.toString() for i in ids]


async def test_eviction_resets_memory_keeps_storage(make_runtime: MakeRuntime, clock: Any) -> None:
    """eviction.test.ts: "resets in-memory state but preserves storage on targeted eviction"."""
    counter = await _counter(make_runtime, clock)
    stub = counter.getByName("evict")
    assert await stub.fetch("https://example.com/") == "1"
    assert await stub.fetch("https://example.com/") == "2"

    def corrupt(instance: Counter, _state: Any) -> None:
        instance.count = 999

    await do.run_in_durable_object(stub, corrupt)
    do.evict_durable_object(stub, {"webSockets": "hibernate"})
    assert await stub.fetch("https://example.com/") == "3"


async def test_sql_api_with_migrations(make_runtime: MakeRuntime) -> None:
    """sqlite-in-do.test.ts: "enables SQL API with migrations" (a fresh object is 4096 bytes)."""
    rt = await make_runtime()
    ns = rt.namespace("SQL", SQLiteDurableObject, unique_key="w-SQL", sqlite=True)
    assert await ns.getByName("/sql").fetch("https://example.com/sql") == "4096"


async def test_bulk_eviction(make_runtime: MakeRuntime, clock: Any) -> None:
    """eviction.test.ts: "resets all running instances with bulk eviction"."""
    counter = await _counter(make_runtime, clock)
    stub = counter.getByName("evict-all")
    assert await stub.fetch("https://example.com/") == "1"

    def corrupt(instance: Counter, _state: Any) -> None:
        instance.count = 999

    await do.run_in_durable_object(stub, corrupt)
    do.evict_all_durable_objects(counter)
    assert await stub.fetch("https://example.com/") == "2"


async def test_eviction_rejects_a_non_stub() -> None:
    """eviction.test.ts: "rejects when passed a non-Durable-Object stub"."""
    with pytest.raises(TypeError):
        do.evict_durable_object({})  # type: ignore[arg-type]


# -- WebSockets: the test's end of a pair is the response's ``webSocket`` ------------------


def _collect(socket: WebSocket, count: int) -> asyncio.Future[list[str]]:
    """``waitForMessages(socket, count)``: the first ``count`` messages (listener added
    before ``accept()``, as upstream)."""
    done: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
    got: list[str] = []

    def on_message(event: Any) -> None:
        got.append(event.data if isinstance(event.data, str) else event.data.decode())
        if len(got) == count and not done.done():
            done.set_result(list(got))

    socket.addEventListener("message", on_message)
    return done


def _closed(socket: WebSocket) -> asyncio.Future[Any]:
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    socket.addEventListener("close", lambda event: done.done() or done.set_result(event))
    return done


async def test_hibernates_websockets_across_eviction(make_runtime: MakeRuntime, clock: Any) -> None:
    """eviction.test.ts: "hibernates WebSockets across eviction"."""
    counter = await _counter(make_runtime, clock)
    stub = counter.getByName(f"evict-ws-{uuid.uuid4()}")
    socket = await stub.fetch("https://example.com/websocket-order")
    assert isinstance(socket, WebSocket)
    socket.accept()
    do.evict_durable_object(stub)
    assert counter._host.live_count == 0
    # Hibernated, not closed: a message still round-trips, waking a new instance.
    message = _collect(socket, 1)
    socket.send("after-eviction")
    assert await asyncio.wait_for(message, 10) == ["after-eviction"]
    assert counter._host.live_count == 1
    socket.close(1000, "done")


async def test_closes_websockets_when_requested_during_eviction(
    make_runtime: MakeRuntime, clock: Any,
) -> None:
    """eviction.test.ts: "closes WebSockets when requested during eviction"."""
    counter = await _counter(make_runtime, clock)
    stub = counter.getByName(f"evict-ws-close-{uuid.uuid4()}")
    socket = await stub.fetch("https://example.com/websocket-order")
    socket.accept()
    closed = _closed(socket)
    do.evict_durable_object(stub, {"webSockets": "close"})
    event = await asyncio.wait_for(closed, 10)
    assert (event.code, event.reason) == (1001, "Durable Object evicted")
    # The object forgot the socket: a new instance finds none.
    assert await do.run_in_durable_object(stub, lambda _i, ctx: ctx.getWebSockets()) == []
    with pytest.raises(TypeError, match="webSockets must be"):
        do.evict_durable_object(stub, {"webSockets": "drop"})


async def test_bulk_eviction_closes_websockets(make_runtime: MakeRuntime, clock: Any) -> None:
    """eviction.test.ts's ``evictAllDurableObjects`` with the same ``webSockets`` option:
    ``"close"`` closes the sockets of every object."""
    counter = await _counter(make_runtime, clock)
    sockets = [await counter.getByName(f"all-{n}").fetch("https://example.com/websocket-order")
               for n in range(2)]
    closes = []
    for socket in sockets:
        socket.accept()
        closes.append(_closed(socket))
    do.evict_all_durable_objects(counter, web_sockets="close")
    events = await asyncio.wait_for(asyncio.gather(*closes), 10)
    assert [e.code for e in events] == [1001, 1001]


async def test_dispatches_to_object_without_optional_handlers(make_runtime: MakeRuntime) -> None:
    """websockets.test.ts: "dispatches to a Durable Object that omits optional WebSocket
    handlers" (no ``webSocketClose``: a close is a silent no-op, the object survives)."""
    rt = await make_runtime()
    ns = rt.namespace("OPTIONAL_WS", OptionalWebSocketHandlers, unique_key="w-OptionalWS",
                      sqlite=True)
    stub = ns.getByName(f"optional-websocket-handlers-{uuid.uuid4()}")
    socket = await stub.fetch("https://example.com/")
    messages = _collect(socket, 1)
    socket.accept()
    socket.send("hello")
    assert await asyncio.wait_for(messages, 10) == ["echo:hello"]
    instance = await do.run_in_durable_object(stub, lambda inst, _ctx: inst)
    socket.close(1000, "done")
    for _ in range(100):  # the close event reaches the object (and is ignored)
        if await do.run_in_durable_object(stub, lambda _i, ctx: ctx.getWebSockets()) == []:
            break
        await asyncio.sleep(0.01)
    assert await do.run_in_durable_object(stub, lambda _i, ctx: ctx.getWebSockets()) == []
    # The same instance survived the close and still serves new connections.
    second = await stub.fetch("https://example.com/")
    second_messages = _collect(second, 1)
    second.accept()
    second.send("still-here")
    assert await asyncio.wait_for(second_messages, 10) == ["echo:still-here"]
    assert await do.run_in_durable_object(stub, lambda inst, _ctx: inst) is instance


async def test_preserves_hibernatable_websocket_message_order(
    make_runtime: MakeRuntime, clock: Any,
) -> None:
    """websockets.test.ts: "preserves hibernatable WebSocket message order" (5 attempts of
    100 messages: echoed, and logged by the object, in the order sent)."""
    counter = await _counter(make_runtime, clock)
    expected = [f"message-{i}" for i in range(100)]
    for attempt in range(5):
        stub = counter.getByName(f"websocket-ordering-{uuid.uuid4()}-{attempt}")
        socket = await stub.fetch("https://example.com/websocket-order")
        messages = _collect(socket, len(expected))
        socket.accept()
        for message in expected:
            socket.send(message)
        assert await asyncio.wait_for(messages, 10) == expected
        assert await stub.fetch("https://example.com/websocket-order-log") == expected
        socket.close(1000, "done")
