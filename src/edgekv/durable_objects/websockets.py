"""The WebSocket Hibernation API of Durable Objects: ``ctx.acceptWebSocket`` and friends.

``ObjectSockets`` holds the sockets one object accepted, with their tags. It belongs to the
namespace (``Hibernation``), not to the object's instance, so the sockets (and their
serialized attachments) outlive the instance: an idle object is evicted while its clients
stay connected, and the next message constructs a fresh instance and calls its
``webSocketMessage(ws, message)``, as Cloudflare wakes a hibernated object.

Events reach the object through the namespace's serial dispatch (one event at a time, like
any RPC or fetch): ``webSocketMessage(ws, message)``, ``webSocketClose(ws, code, reason,
wasClean)``, ``webSocketError(ws, error)``. A class without the handler ignores the event.
A message equal to the request of ``setWebSocketAutoResponse`` is answered with its
response without waking the object, and the time is recorded for
``getWebSocketAutoResponseTimestamp(ws)``.

Sockets are duck-typed (``edgekv.runtime.web.websocket.WebSocket``): this layer sets their
``_hibernation`` hook and calls ``send``.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from edgekv.durable_objects.errors import DurableObjectError

__all__ = [
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "Hibernation",
    "ObjectSockets",
    "WebSocketRequestResponsePair",
]

logger = logging.getLogger("edgekv.durable_objects")

MAX_TAGS = 10
MAX_TAG_LENGTH = 256
MAX_SOCKETS = 32_768

Dispatch = Callable[[Callable[[Any], Any]], Awaitable[Any]]


class WebSocketRequestResponsePair:
    """``new WebSocketRequestResponsePair(request, response)`` for auto-responses."""

    def __init__(self, request: str, response: str) -> None:
        self.request = request
        self.response = response

    @classmethod
    def new(cls, request: str, response: str) -> WebSocketRequestResponsePair:
        return cls(request, response)


class ObjectSockets:
    """The hibernatable sockets of one object (see the module docstring)."""

    def __init__(self, dispatch: Dispatch, now: Callable[[], float]) -> None:
        self._dispatch = dispatch
        self._now = now
        self.sockets: dict[Any, tuple[str, ...]] = {}
        self.auto_response: WebSocketRequestResponsePair | None = None
        self.auto_times: dict[Any, float] = {}

    def accept(self, ws: Any, tags: Any = None) -> None:
        """``ctx.acceptWebSocket(ws, tags)``: the object handles ``ws``'s events from now on."""
        if getattr(ws, "is_outbound", False):
            raise DurableObjectError("acceptWebSocket() takes the server end of a WebSocketPair")
        if ws in self.sockets:
            raise DurableObjectError("The WebSocket has already been accepted")
        tag_list = tuple(str(t) for t in (tags or ()))
        if len(tag_list) > MAX_TAGS:
            raise DurableObjectError(
                f"A WebSocket can have at most {MAX_TAGS} tags, got {len(tag_list)}.")
        for tag in tag_list:
            if len(tag) > MAX_TAG_LENGTH:
                raise DurableObjectError(
                    f"A WebSocket tag can be at most {MAX_TAG_LENGTH} characters long.")
        if len(self.sockets) >= MAX_SOCKETS:
            raise DurableObjectError("Too many hibernatable WebSockets on this Durable Object")
        self.sockets[ws] = tag_list
        ws.accept_hibernatable(self._event)

    def get(self, tag: Any = None) -> list[Any]:
        """``ctx.getWebSockets(tag)``: open accepted sockets, all or those with ``tag``."""
        return [ws for ws, tags in self.sockets.items()
                if (tag is None or str(tag) in tags) and ws.readyState <= 1]

    def tags(self, ws: Any) -> list[str]:
        """``ctx.getTags(ws)``."""
        if ws not in self.sockets:
            raise DurableObjectError("getTags() takes a WebSocket accepted by this object")
        return list(self.sockets[ws])

    def auto_response_time(self, ws: Any) -> _dt.datetime | None:
        stamp = self.auto_times.get(ws)
        return None if stamp is None else _dt.datetime.fromtimestamp(stamp, _dt.UTC)

    async def _event(self, kind: str, ws: Any, payload: Any) -> None:
        if kind == "message":
            pair = self.auto_response
            if pair is not None and payload == pair.request:
                self.auto_times[ws] = self._now()
                ws.send(pair.response)
                return
            await self._call("webSocketMessage", ws, payload)
        elif kind == "close":
            code, reason = payload
            self.sockets.pop(ws, None)
            self.auto_times.pop(ws, None)
            await self._call("webSocketClose", ws, code, reason, code != 1006)
        elif kind == "error":
            await self._call("webSocketError", ws, payload)

    async def _call(self, name: str, *args: Any) -> None:
        def call(instance: Any) -> Any:
            handler = getattr(instance, name, None)
            if handler is None:
                return None
            return handler(*args)

        try:
            await self._dispatch(call)
        except Exception:
            logger.exception("Uncaught exception in %s", name)


class Hibernation:
    """The hibernatable sockets of every object of one namespace, by object id."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._objects: dict[str, ObjectSockets] = {}

    def for_object(self, id_hex: str, dispatch: Dispatch) -> ObjectSockets:
        """The sockets of object ``id_hex`` (created on first use, kept across evictions)."""
        sockets = self._objects.get(id_hex)
        if sockets is None:
            sockets = self._objects[id_hex] = ObjectSockets(dispatch, self._now)
        return sockets

    def close_object(self, id_hex: str, code: int = 1001, reason: str = "") -> int:
        """Close every hibernatable socket of object ``id_hex``; return how many.

        The clients receive a close event (``code``, ``reason``); the object is not told
        (it is being evicted: vitest-pool-workers' ``evictDurableObject(stub, {webSockets:
        "close"})``). Its sockets, tags and auto-response timestamps are forgotten.
        """
        sockets = self._objects.get(id_hex)
        if sockets is None:
            return 0
        closed = 0
        for ws in list(sockets.sockets):
            sockets.sockets.pop(ws, None)
            sockets.auto_times.pop(ws, None)
            ws.release_hibernatable()  # a close echoed back by the client reaches nobody
            if ws.readyState <= 1:
                ws.close(code, reason)
                closed += 1
        return closed

    def close_all(self, code: int = 1001, reason: str = "") -> int:
        """``close_object`` for every object of the namespace; return how many sockets."""
        return sum(self.close_object(id_hex, code, reason) for id_hex in list(self._objects))

    def live(self, id_hex: str) -> bool:
        sockets = self._objects.get(id_hex)
        return bool(sockets and sockets.sockets)
