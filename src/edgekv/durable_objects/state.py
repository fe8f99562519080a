"""``ctx``: the ``DurableObjectState`` handed to a Durable Object's constructor
(docs/durable-objects.md, "ctx").

``blockConcurrencyWhile(fn)`` starts ``fn`` at once and returns an awaitable of its result, so
it works both awaited inside a handler and un-awaited from a synchronous ``__init__`` (the
Python Workers pattern). Either way no other event reaches the object until ``fn`` finishes;
if ``fn`` raises or exceeds the 30 s limit, the object is reset. The host enforces this by
draining the pending callbacks before it releases the object's event queue.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from edgekv.durable_objects.errors import (
    DurableObjectAbort,
    DurableObjectError,
    DurableObjectReset,
)
from edgekv.durable_objects.gates import InputGate
from edgekv.durable_objects.ids import DurableObjectId
from edgekv.durable_objects.storage import DurableObjectStorage, close_storage
from edgekv.durable_objects.websockets import ObjectSockets

__all__ = ["DurableObjectState"]

BLOCK_TIMEOUT = (
    "A call to blockConcurrencyWhile() in a Durable Object waited for too long. The call was "
    "canceled and the Durable Object was reset."
)
ABORTED = "Application called abort() to reset Durable Object."
TOO_DEEP = "blockConcurrencyWhile() calls are nested too deeply."
MAX_BLOCK_DEPTH = 64
_BLOCK_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("edgekv_do_block_depth", default=0)


class DurableObjectState:
    """The per-object context: ``id``, ``storage``, ``blockConcurrencyWhile``, ``waitUntil``."""

    def __init__(
        self,
        object_id: DurableObjectId,
        storage: DurableObjectStorage,
        block_timeout: float,
        gate: InputGate | None = None,
    ) -> None:
        self._gate = gate
        self._id = object_id
        self._storage = storage
        self._block_timeout = block_timeout
        self._blockers: list[asyncio.Future[Any]] = []
        self._background: set[asyncio.Future[Any]] = set()
        self.broken = False  # set when a blockConcurrencyWhile callback failed: reset me

    @property
    def id(self) -> DurableObjectId:
        """This object's id."""
        return self._id

    @property
    def storage(self) -> DurableObjectStorage:
        """This object's ``DurableObjectStorage``."""
        return self._storage

    # -- concurrency control ------------------------------------------------------------------

    def blockConcurrencyWhile(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run ``fn`` (sync or async) with no other event delivered; returns its result.

        Awaiting the result is optional. A failure (or the 30 s timeout) resets the object.
        The input gate stays closed until ``fn`` finishes. Calls nest at most 64 deep
        (workerd's ``MAX_BLOCK_CONCURRENCY_WHILE_DEPTH``); deeper raises at once.
        """
        depth = _BLOCK_DEPTH.get() + 1
        if depth > MAX_BLOCK_DEPTH:
            raise DurableObjectError(TOO_DEEP)
        gate = self._gate
        if gate is not None:
            gate.close()
        context = contextvars.copy_context()
        context.run(_BLOCK_DEPTH.set, depth)
        future = context.run(asyncio.ensure_future, self._block(fn))
        if gate is not None:
            future.add_done_callback(lambda _f: gate.open_later())
        self._blockers.append(future)
        return future

    block_concurrency_while = blockConcurrencyWhile

    async def _block(self, fn: Callable[[], Any]) -> Any:
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(_as_coroutine(result), self._block_timeout)
            return result
        except TimeoutError:
            self.broken = True
            raise DurableObjectReset(BLOCK_TIMEOUT) from None
        except BaseException:
            self.broken = True
            raise

    async def drain_blockers(self) -> BaseException | None:
        """Wait for every pending ``blockConcurrencyWhile``; return the first failure."""
        failure: BaseException | None = None
        while self._blockers:
            future = self._blockers.pop(0)
            try:
                await asyncio.shield(future) if not future.done() else None
            except BaseException:  # noqa: BLE001, S110 - collected below
                pass
            if future.cancelled():
                failure = failure or DurableObjectReset("blockConcurrencyWhile() was canceled")
            elif future.exception() is not None:
                failure = failure or future.exception()
        return failure

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:
        """Keep ``awaitable`` running after the event; the object is not evicted meanwhile."""
        future = asyncio.ensure_future(awaitable)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    wait_until = waitUntil

    @property
    def busy(self) -> bool:
        """``True`` while ``waitUntil`` work or blockers are pending (the object stays live)."""
        return bool(self._background) or bool(self._blockers)

    def abort(self, reason: str | None = None) -> None:
        """Reset the object: raises ``DurableObjectAbort``; the caller gets ``DurableObjectReset``."""
        self.broken = True
        raise DurableObjectAbort(reason if reason is not None else ABORTED)

    # -- WebSocket hibernation (durable_objects.websockets) -----------------------------------

    #: Set by the namespace host: the hibernatable sockets of this object.
    websockets: ObjectSockets | None = None

    def _sockets(self) -> ObjectSockets:
        if self.websockets is None:
            raise DurableObjectError("WebSocket hibernation is not available for this object")
        return self.websockets

    def acceptWebSocket(self, ws: Any, tags: Any = None) -> None:
        """Handle ``ws``'s events in ``webSocketMessage``/``webSocketClose``/``webSocketError``."""
        self._sockets().accept(ws, tags)

    def getWebSockets(self, tag: Any = None) -> list[Any]:
        """The open sockets this object accepted (with ``tag``, if given)."""
        return self._sockets().get(tag) if self.websockets is not None else []

    def getTags(self, ws: Any) -> list[str]:
        return self._sockets().tags(ws)

    def setWebSocketAutoResponse(self, pair: Any = None) -> None:
        """Answer ``pair.request`` with ``pair.response`` without waking the object."""
        self._sockets().auto_response = pair

    def getWebSocketAutoResponse(self) -> Any:
        return self._sockets().auto_response

    def getWebSocketAutoResponseTimestamp(self, ws: Any) -> Any:
        return self._sockets().auto_response_time(ws)

    def setHibernatableWebSocketEventTimeout(self, timeout_ms: Any = None) -> None:
        """Accepted; edgekv does not time out WebSocket event handlers."""

    def getHibernatableWebSocketEventTimeout(self) -> Any:
        return None

    accept_websocket = acceptWebSocket
    get_websockets = getWebSockets

    def close(self) -> None:
        """Release the storage's resources (the SQLite file handle)."""
        for future in self._background:
            future.cancel()
        close_storage(self._storage)


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
