"""WebSockets as Workers see them: ``WebSocketPair``, ``WebSocket`` and the ASGI bridge.

- ``client, server = WebSocketPair.new().object_values()`` (also ``WebSocketPair()``,
  ``pair[0]``/``pair[1]``): two linked ends. The Worker calls ``server.accept()`` (or hands
  ``server`` to a Durable Object's ``ctx.acceptWebSocket``), listens with
  ``server.addEventListener("message", fn)`` and returns ``Response(None, status=101,
  web_socket=client)``. What one end ``send``\\ s, the other receives.
- ``WebSocket.new(url)`` / ``WebSocket(url)`` (``js.WebSocket``): an outbound connection
  (``ws://``/``wss://``, through the ``websockets`` library) with ``open``, ``message``,
  ``close`` and ``error`` events.
- :func:`serve_websocket` (after :func:`accept_and_serve` accepted it) runs an ASGI
  ``websocket`` connection against the ``client`` end of a 101 response: frames from the browser reach the Worker's end, frames the Worker sends
  reach the browser, and a close on either side reaches the other (code, reason).

Events are delivered in order, one at a time, from a task per end: a listener may be a plain
function or a coroutine function (it is awaited before the next event). Messages that arrive
before ``accept()`` wait for it, as in workerd. ``send`` is synchronous (it queues), as in
JavaScript. Text arrives as ``str``, binary as ``bytes``.

Attachments (``serializeAttachment(value)`` / ``deserializeAttachment()``) are deep copies,
at most 2,048 bytes once JSON-encoded (Cloudflare's limit), and live on the socket, so they
survive the eviction of a hibernating Durable Object.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any

from edgekv.runtime.errors import RuntimeShimError

__all__ = [
    "CloseEvent",
    "MessageEvent",
    "WebSocket",
    "WebSocketPair",
    "accept_and_serve",
    "serve_websocket",
]

logger = logging.getLogger("edgekv.runtime.web.websocket")

MAX_ATTACHMENT_BYTES = 2048


class MessageEvent:
    """``event.data`` (``str`` or ``bytes``), ``event.type == "message"``."""

    type = "message"

    def __init__(self, data: str | bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"MessageEvent(data={self.data!r})"


class CloseEvent:
    """``event.code``, ``event.reason``, ``event.wasClean``, ``event.type == "close"``."""

    type = "close"

    def __init__(self, code: int, reason: str, was_clean: bool) -> None:
        self.code = code
        self.reason = reason
        self.wasClean = was_clean
        self.was_clean = was_clean

    def __repr__(self) -> str:
        return f"CloseEvent(code={self.code}, reason={self.reason!r}, wasClean={self.wasClean})"


class _Event:
    def __init__(self, kind: str, **fields: Any) -> None:
        self.type = kind
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return f"Event({self.type!r})"


def _text_or_bytes(data: Any) -> str | bytes:
    if isinstance(data, str):
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    to_bytes = getattr(data, "to_bytes", None)  # a Uint8Array-like from to_js
    if callable(to_bytes):
        return bytes(to_bytes())
    raise TypeError(f"WebSocket.send() takes a str or bytes, not {type(data).__name__}")


class WebSocket:
    """One end of a WebSocket (see the module docstring)."""

    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3

    def __init__(self, url: str | None = None, protocols: Any = None) -> None:
        self.url = url
        self.protocol = ""
        self.extensions = ""
        self.readyState = self.CONNECTING if url is not None else self.OPEN
        self._peer: WebSocket | None = None
        self._listeners: dict[str, list[Callable[..., Any]]] = {}
        self._events: asyncio.Queue[Any] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._accepted = False
        self._closed_sent = False
        self._attachment: Any = None
        #: Set by a Durable Object's ``ctx.acceptWebSocket``: ``handler(kind, ws, *args)``
        #: receives events instead of the listeners.
        self._hibernation: Callable[..., Any] | None = None
        #: Set by the ASGI bridge: ``sink(kind, payload)`` carries frames to the network.
        self._sink: Callable[[str, Any], Any] | None = None
        self._outbound: Any = None
        self.onmessage: Any = None
        self.onclose: Any = None
        self.onopen: Any = None
        self.onerror: Any = None
        if url is not None:
            self._start_outbound(url, protocols)

    @classmethod
    def new(cls, url: str, protocols: Any = None) -> WebSocket:
        """JavaScript's ``new WebSocket(url)``."""
        return cls(url, protocols)

    # -- the JavaScript API -------------------------------------------------------------------

    def accept(self) -> None:
        """Start delivering events to this (server) end; queued messages follow."""
        if self._accepted:
            return
        self._accepted = True
        self._ensure_pump()

    @property
    def is_outbound(self) -> bool:
        """Whether this socket was opened with ``new WebSocket(url)`` (not a pair's end)."""
        return self._peer is None and self._outbound is not None

    def accept_hibernatable(self, handler: Callable[..., Any]) -> None:
        """A Durable Object's ``ctx.acceptWebSocket``: from now on ``await handler(kind,
        self, payload)`` receives every event instead of the listeners."""
        self._hibernation = handler
        self._accepted = True
        self._ensure_pump()

    def release_hibernatable(self) -> None:
        """Stop delivering events to the Durable Object that accepted this socket (it is
        being evicted): a close echoed back by the client then reaches nobody."""
        self._hibernation = None

    def addEventListener(self, kind: str, listener: Any, options: Any = None) -> None:
        """Call ``listener(event)`` for each ``kind`` event (message, close, error, open)."""
        self._listeners.setdefault(kind, []).append(listener)
        if self._outbound is not None or self._sink is not None:
            self._ensure_pump()

    add_event_listener = addEventListener

    def removeEventListener(self, kind: str, listener: Any, options: Any = None) -> None:
        listeners = self._listeners.get(kind, [])
        if listener in listeners:
            listeners.remove(listener)

    def send(self, data: Any) -> None:
        """Queue ``data`` (``str`` or bytes-like) for the other side."""
        if self.readyState == self.CONNECTING:
            raise RuntimeShimError("Failed to execute 'send' on 'WebSocket': Still in CONNECTING "
                                   "state.")
        if self.readyState != self.OPEN:
            raise RuntimeShimError("Can't call WebSocket send() after close().")
        if self._peer is not None and not self._accepted and self._hibernation is None:
            raise RuntimeShimError(
                "You must call accept() on this WebSocket before sending messages.")
        payload = _text_or_bytes(data)
        if self._outbound is not None:
            self._outbound.send(payload)
        elif self._peer is not None:
            self._peer._arrive("message", payload)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Close this end; the other side gets a close event with ``code`` and ``reason``."""
        if self.readyState in (self.CLOSING, self.CLOSED) and self._closed_sent:
            return
        self._closed_sent = True
        self.readyState = self.CLOSED
        code = 1000 if code is None else int(code)
        reason = reason or ""
        if self._outbound is not None:
            self._outbound.close(code, reason)
        elif self._peer is not None:
            self._peer._arrive("close", (code, reason))

    def serializeAttachment(self, value: Any) -> None:
        """Keep a copy of ``value`` with this socket (2,048 bytes at most, JSON-encoded)."""
        try:
            size = len(json.dumps(value, default=str).encode("utf-8"))
        except (TypeError, ValueError):
            size = 0
        if size > MAX_ATTACHMENT_BYTES:
            raise RuntimeShimError(
                f"A WebSocket 'attachment' cannot be larger than {MAX_ATTACHMENT_BYTES} bytes. "
                f"'attachment' was {size} bytes.")
        self._attachment = copy.deepcopy(value)

    def deserializeAttachment(self) -> Any:
        """A copy of the attached value, or None."""
        return copy.deepcopy(self._attachment)

    serialize_attachment = serializeAttachment
    deserialize_attachment = deserializeAttachment

    # -- delivery ---------------------------------------------------------------------------------

    def _arrive(self, kind: str, payload: Any) -> None:
        """Something for this end from the other side (``message``/``close``/``error``)."""
        if kind == "close" and not self._closed_sent:
            self.readyState = self.CLOSING
        if self._sink is not None:
            result = self._sink(kind, payload)
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)
            return
        self._queue().put_nowait((kind, payload))
        if self._accepted or self._hibernation is not None or self._listeners:
            self._ensure_pump()

    def _queue(self) -> asyncio.Queue[Any]:
        if self._events is None:
            self._events = asyncio.Queue()
        return self._events

    def _ensure_pump(self) -> None:
        if self._pump is None or self._pump.done():
            self._queue()
            self._pump = asyncio.ensure_future(self._run_pump())

    async def _run_pump(self) -> None:
        queue = self._queue()
        while True:
            kind, payload = await queue.get()
            try:
                await self._deliver(kind, payload)
            except asyncio.CancelledError:
                raise
            except BaseException:
                # Durable Object's listener) does not stop the socket's event delivery
                logger.exception("Uncaught exception in a WebSocket %s handler", kind)
            if kind == "close":
                # A pair end stays CLOSING until the Worker answers with close() (workerd);
                # an outbound connection is closed by now.
                if self._outbound is not None:
                    self.readyState = self.CLOSED
                return

    async def _deliver(self, kind: str, payload: Any) -> None:
        if self._hibernation is not None:
            await self._hibernation(kind, self, payload)
            return
        if kind == "message":
            event: Any = MessageEvent(payload)
        elif kind == "close":
            code, reason = payload
            event = CloseEvent(code, reason, code != 1006)
        elif kind == "open":
            event = _Event("open")
        else:
            event = _Event("error", error=payload, message=str(payload))
        listeners = list(self._listeners.get(kind, ()))
        attribute = getattr(self, f"on{kind}", None)
        if attribute is not None:
            listeners.append(attribute)
        for listener in listeners:
            result = listener(event)
            if inspect.isawaitable(result):
                await result

    def _start_outbound(self, url: str, protocols: Any) -> None:
        self._outbound = _Outbound(self, url, protocols)

    def __repr__(self) -> str:
        return f"WebSocket(readyState={self.readyState})"


class _Outbound:
    """The network side of ``new WebSocket(url)``, on the ``websockets`` library."""

    def __init__(self, ws: WebSocket, url: str, protocols: Any) -> None:
        self.ws = ws
        self.url = url
        self.protocols = [protocols] if isinstance(protocols, str) else list(protocols or [])
        self.pending: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.ensure_future(self.run())

    def send(self, payload: str | bytes) -> None:
        self.pending.put_nowait(("send", payload))

    def close(self, code: int, reason: str) -> None:
        self.pending.put_nowait(("close", (code, reason)))

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        ws = self.ws
        try:
            subprotocols: Any = self.protocols or None
            connection = await connect(self.url, subprotocols=subprotocols)
        except Exception as exc:  # noqa: BLE001 - reported as error then close events
            ws.readyState = ws.CLOSED
            ws._arrive("error", exc)
            ws._arrive("close", (1006, ""))
            return
        ws.readyState = ws.OPEN
        ws.protocol = connection.subprotocol or ""
        ws._arrive("open", None)

        async def writer() -> None:
            while True:
                kind, payload = await self.pending.get()
                if kind == "send":
                    await connection.send(payload)
                else:
                    await connection.close(*payload)
                    return

        writing = asyncio.ensure_future(writer())
        code, reason = 1006, ""
        try:
            async for message in connection:
                ws._arrive("message", message)
        except ConnectionClosed:
            pass
        finally:
            writing.cancel()
            if connection.close_code is not None:
                code, reason = connection.close_code, connection.close_reason or ""
            ws.readyState = ws.CLOSED
            ws._arrive("close", (code, reason))


class WebSocketPair:
    """Two linked ends; ``object_values()`` (or indexing) gives ``(client, server)``."""

    def __init__(self) -> None:
        client, server = WebSocket(), WebSocket()
        client._peer, server._peer = server, client
        self._ends = (client, server)

    @classmethod
    def new(cls) -> WebSocketPair:
        """JavaScript's ``new WebSocketPair()``."""
        return cls()

    def object_values(self) -> tuple[WebSocket, WebSocket]:
        """``Object.values(pair)``: ``(client, server)``."""
        return self._ends

    def __getitem__(self, index: int | str) -> WebSocket:
        return self._ends[int(index)]

    def __iter__(self) -> Any:
        return iter(self._ends)

    def __len__(self) -> int:
        return 2


async def accept_and_serve(client: WebSocket, headers: Any, receive: Any, send: Any) -> None:
    """Answer an ASGI websocket connection with a Worker's 101 response (``client`` is its
    ``web_socket``, ``headers`` its ``Headers``): accept, passing on the subprotocol the Worker
    chose, then :func:`serve_websocket` until either side closes."""
    await send({"type": "websocket.accept",
                "headers": [(k, v) for k, v in headers.raw() if k == b"sec-websocket-protocol"]})
    await serve_websocket(client, receive, send)


async def serve_websocket(client: WebSocket, receive: Any, send: Any) -> None:
    """Bridge an accepted ASGI websocket connection to ``client`` until either side closes.

    The caller has sent ``websocket.accept``. Frames from the network go to the Worker's end
    (``client``'s peer); what the Worker sends reaches the network through ``client``.
    """
    server = client._peer
    done = asyncio.Event()
    closing: list[tuple[int, str]] = []

    async def sink(kind: str, payload: Any) -> None:
        if done.is_set():
            return
        if kind == "message":
            key = "text" if isinstance(payload, str) else "bytes"
            await send({"type": "websocket.send", key: payload})
        elif kind == "close":
            code, reason = payload
            closing.append((code, reason))
            done.set()
            await send({"type": "websocket.close", "code": code, "reason": reason})

    client._sink = sink
    # Frames the Worker sent before the connection existed (a welcome message).
    pending = client._events
    if pending is not None:
        while not pending.empty():
            kind, payload = pending.get_nowait()
            await sink(kind, payload)
    if server is None:
        return

    async def pump() -> None:
        while not done.is_set():
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                data: str | bytes = text if text is not None else message.get("bytes") or b""
                server._arrive("message", data)
            elif kind == "websocket.disconnect":
                code = int(message.get("code", 1005))
                reason = message.get("reason") or ""
                client.readyState = client.CLOSED
                server._arrive("close", (code, reason))
                done.set()
                return

    reader = asyncio.ensure_future(pump())
    waiter = asyncio.ensure_future(done.wait())
    try:
        await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if closing and not reader.done():
            # The Worker closed: wait (briefly) for the client's close frame, then stop.
            try:
                await asyncio.wait_for(asyncio.shield(reader), 1.0)
            except (TimeoutError, Exception):  # noqa: BLE001
                reader.cancel()
        elif not reader.done():
            reader.cancel()
