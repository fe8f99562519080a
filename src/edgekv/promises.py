"""Promise-like calls: start a coroutine when it is called, as a JavaScript promise starts.

Cloudflare's Python Workers receive raw JavaScript promises from bindings: the operation
starts when the method is called, whether or not the promise is ever awaited. ``start_eagerly``
gives a coroutine the same behaviour on asyncio: it runs at once up to its first real
suspension (so arguments are read at call time, and an operation that completes without
suspending is already done), and the rest runs in a task. Awaiting a future that is already
done does not yield to the event loop.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable, Coroutine, Generator
from functools import wraps
from typing import Any, ParamSpec, TypeVar

__all__ = ["eager", "start_eagerly"]

T = TypeVar("T")
P = ParamSpec("P")


@types.coroutine
def _resume(coro: Coroutine[Any, Any, T], yielded: Any) -> Generator[Any, Any, T]:
    """Continue ``coro`` (already suspended on ``yielded``) inside the task that awaits us."""
    while True:
        try:
            sent = yield yielded
        except BaseException as exc:  # noqa: BLE001 - cancellation and errors go to the coroutine
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


def start_eagerly(coro: Coroutine[Any, Any, T], *, quiet: bool = False,
                  loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Future[T]:
    """Run ``coro`` until it first suspends; return a future of its result.

    Errors raised before the first suspension go into the future (a rejected promise), never
    out of this call. ``quiet`` marks failures as retrieved (the caller tracks them). ``loop``
    is the running loop, when the caller has it at hand (default: looked up).
    """
    if loop is None:
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




def eager(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Any]:
    """Decorate an ``async def`` binding method so that calling it starts it at once.

    Outside a running event loop (``asyncio.run(binding.put(...))``) the plain coroutine is
    returned, to be started by whoever runs it.
    """

    @wraps(method)
    def start(*args: P.args, **kwargs: P.kwargs) -> Any:
        coro = method(*args, **kwargs)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return coro
        return start_eagerly(coro, loop=loop)

    return start
