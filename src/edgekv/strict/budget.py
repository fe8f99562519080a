"""``RequestBudget``: CPU time and memory of each request against Cloudflare's limits.

CPU time is the thread CPU time spent *in* the request's coroutine, summed over its steps
(time spent awaiting I/O is not counted, as on Cloudflare). Memory is the tracemalloc peak
above the level at the request's start; it is measured only for requests that run alone
(tracemalloc's peak is process-wide), which is the case when a developer tries a route.
A Worker isolate has 128 MB; the CPU limit is the config's ``limits.cpu_ms`` (30,000 ms,
Cloudflare's default, when unset).
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from edgekv.strict.guards import WatchedWorker

__all__ = ["DEFAULT_CPU_MS", "ISOLATE_MEMORY_BYTES", "RequestBudget"]

DEFAULT_CPU_MS = 30_000
ISOLATE_MEMORY_BYTES = 128 * 1024 * 1024

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class _Timed:
    """Await a coroutine while adding the thread CPU time of each of its steps."""

    def __init__(self, coro: Any) -> None:
        self.coro = coro
        self.cpu_seconds = 0.0

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value, error = self.coro, None, None
        while True:
            started = time.thread_time()
            try:
                yielded = coro.throw(error) if error is not None else coro.send(value)
            except StopIteration as stop:
                self.cpu_seconds += time.thread_time() - started
                return stop.value
            finally:
                pass
            self.cpu_seconds += time.thread_time() - started
            try:
                value, error = (yield yielded), None
            except BaseException as exc:  # noqa: BLE001 - like ``yield from``, whatever is thrown
                # in (cancellation and friends) goes on to the coroutine
                value, error = None, exc


class RequestBudget:
    """ASGI middleware measuring each HTTP request of ``app``."""

    def __init__(self, app: ASGIApp, worker: WatchedWorker, *, cpu_ms: int = DEFAULT_CPU_MS,
                 memory_bytes: int = ISOLATE_MEMORY_BYTES) -> None:
        self.app = app
        self.worker = worker
        self.cpu_ms = cpu_ms
        self.memory_bytes = memory_bytes
        self._in_flight = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._in_flight += 1
        alone = self._in_flight == 1 and tracemalloc.is_tracing()
        if alone:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        timed = _Timed(self.app(scope, receive, send))
        try:
            await timed
        finally:
            self._in_flight -= 1
            route = f"{scope.get('method', 'GET')} {scope.get('path', '/')}"
            cpu_ms = timed.cpu_seconds * 1000
            if cpu_ms > self.cpu_ms:
                self.worker.reporter.report(
                    "cpu", route, f"used {cpu_ms:.0f} ms of CPU time, over the limit of "
                    f"{self.cpu_ms} ms (limits.cpu_ms): Cloudflare ends such a request with error 1102")
            if alone and self._in_flight == 0:
                peak = tracemalloc.get_traced_memory()[1] - base
                if peak > self.memory_bytes:
                    self.worker.reporter.report(
                        "memory", route, f"allocated {peak / 2**20:.0f} MiB while it ran, over the "
                        f"{self.memory_bytes / 2**20:.0f} MiB of a Worker isolate")
