"""Promise-like calls and the input gate: how an object's events may interleave (spec §1.7).

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
import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

__all__ = ["CURRENT_STORAGE", "InputGate", "start_eagerly"]

T = TypeVar("T")


@types.coroutine
def _resume(coro: Coroutine[Any, Any, T], yielded: Any) -> Generator[Any, Any, T]:
    """Continue ``coro`` (already suspended on ``yielded``) inside the task that awaits us."""
    while True:
        try:
            sent = yield yielded
        except BaseException as exc:  # cancellation and errors go to the coroutine
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]


async def _finish(coro: Coroutine[Any, Any, T], yielded: Any) -> T:
    return await _resume(coro, yielded)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # an un-awaited failure is reported by its owner, not as "never retrieved"


def start_eagerly(coro: Coroutine[Any, Any, T], *, quiet: bool = False) -> asyncio.Future[T]:
    """Run ``coro`` until it first suspends; return a future of its result.

    Errors raised before the first suspension go into the future (a rejected promise), never
    out of this call. ``quiet`` marks failures as retrieved (the caller tracks them).
    """
    loop = asyncio.get_running_loop()
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        done: asyncio.Future[T] = loop.create_future()
        done.set_result(stop.value)
        return done
    except BaseException as exc:  # noqa: BLE001 - a rejected promise
        failed: asyncio.Future[T] = loop.create_future()
        failed.set_exception(exc)
        if quiet:
            failed.exception()
        return failed
    task = loop.create_task(_finish(coro, yielded))
    if quiet:
        task.add_done_callback(_retrieve)
    return task


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
