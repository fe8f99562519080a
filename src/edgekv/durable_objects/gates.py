"""Promise-like calls and the input gate: how an object's events may interleave
(docs/durable-objects.md, "Execution: input and output gates").

``start_eagerly(coro)`` runs a coroutine *now*, up to its first real suspension, and returns a
future of its result, the way a JavaScript promise starts when it is created: a binding call
that is never awaited still happens, and its arguments are read at call time. A coroutine that
completes without suspending (a SQLite-backed storage call) gives a future that is already
done, and awaiting a done future does not yield to the event loop, so code between two such
calls runs without any other event slipping in.

``InputGate`` is workerd's input gate for one object: closed while a storage operation is in
flight or a ``blockConcurrencyWhile`` callback (or a storage transaction) runs. A new event is
delivered only while the gate is open; an event awaiting something else (a fetch, a timer,
another object) leaves it open, so the next event may run meanwhile.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from edgekv.promises import start_eagerly

__all__ = ["CURRENT_STORAGE", "InputGate", "start_eagerly"]


class InputGate:
    """Counts what holds one object's input gate closed; events wait until it opens."""

    __slots__ = ("_holders", "_waiters")

    def __init__(self) -> None:
        self._holders = 0
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def closed(self) -> bool:
        """``True`` while a storage operation, transaction or blocker is in flight."""
        return self._holders > 0

    def close(self) -> None:
        """Take one hold on the gate."""
        self._holders += 1

    def open(self) -> None:
        """Release one hold; when none is left, wake the waiting events."""
        self._holders -= 1
        if self._holders == 0:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def open_later(self) -> None:
        """Release one hold on the next loop turn.

        Used when an operation completes: the code awaiting it is woken first and may take
        the gate again before any waiting event is let in (workerd delivers the completion
        before the next event).
        """
        asyncio.get_running_loop().call_soon(self.open)

    async def wait_open(self) -> None:
        """Return once the gate is open (at once if it is)."""
        loop = asyncio.get_running_loop()
        while self._holders:
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            await waiter

    def abandon(self) -> None:
        """Drop every hold and let the waiting events in (the object was reset)."""
        self._holders = 0
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


# The storage of the object whose event is running in this task (for the output gate of
# outgoing calls: a call to another object waits until this object's writes are durable).
CURRENT_STORAGE: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "edgekv_do_current_storage", default=None
)
