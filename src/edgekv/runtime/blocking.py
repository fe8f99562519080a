"""``pyodide.ffi.run_sync``: synchronous Worker code waiting for an awaitable.

On Cloudflare, Pyodide suspends the WebAssembly stack (JSPI) so that synchronous code — a
Django database backend such as django-cf's D1 engine, called from a WSGI view — can wait for
a JavaScript promise (``run_sync(env.DB.prepare(sql).all())``) and get its value.

On CPython the same code runs on a worker thread: ``workers.wsgi`` runs the WSGI application
with ``asyncio.to_thread``, which copies the request's context, so :func:`current_loop` names
the event loop that serves the request. :func:`run_sync` hands the awaitable to that loop and
blocks the worker thread (never the loop) until it finishes, returning its value or raising
its exception. With no request loop (a script, import time) it runs the awaitable on a loop of
its own. On the loop's own thread it cannot wait without stalling every request, so it raises
``RuntimeError`` (await the value there instead).

The wait is never endless: it ends with ``RuntimeError`` when the loop stops first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Awaitable
from typing import Any, TypeVar

from edgekv.runtime.context import current_loop

__all__ = ["run_sync"]

T = TypeVar("T")

# How often a waiting thread checks that the loop it waits on is still running.
_POLL_SECONDS = 0.5


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _discard(awaitable: Awaitable[Any]) -> None:
    if inspect.iscoroutine(awaitable):
        awaitable.close()  # never awaited: avoid the "was never awaited" warning


def run_sync(awaitable: Awaitable[T]) -> T:
    """Block the calling (non-loop) thread until ``awaitable`` is done; return its result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        _discard(awaitable)
        raise RuntimeError(
            "run_sync() was called on the event loop's thread, where edgekv cannot wait "
            "without stalling every request: await the value instead (synchronous code that "
            "workers.wsgi runs, such as a Django view, may call run_sync())")
    loop = current_loop()
    if loop is None or loop.is_closed():
        return asyncio.run(_await(awaitable))
    future = asyncio.run_coroutine_threadsafe(_await(awaitable), loop)
    while True:
        try:
            return future.result(timeout=_POLL_SECONDS)
        except concurrent.futures.TimeoutError:
            if not loop.is_running():
                future.cancel()
                raise RuntimeError(
                    "run_sync(): the event loop stopped before the awaitable finished") from None
