"""``WorkerResources``: what one Worker runtime opens on the Worker's behalf, and closes.

A ``WorkerRuntime`` owns exactly one. It holds

* the outbound HTTP connection pool that ``workers.fetch`` uses (one ``httpx.AsyncClient``,
  opened on first use);
* the running lifespans of ASGI apps that ``workers.asgi.fetch`` serves (started on an app's
  first request, shut down on close);
* background tasks that nobody awaits (a streamed ASGI response still being produced, an
  ASGI WebSocket endpoint), kept referenced until they end and cancelled on close.

Code running for a Worker finds its owner through :func:`current_resources`: the runtime
binds it (:func:`bind_owner`) around each request and around the start of its Durable Object
tasks, and tasks started meanwhile inherit it. So two runtimes in one process never share a
pool, a lifespan or a task, and closing one leaves the other working. ``close`` is
idempotent; after it, using the resources raises ``RuntimeError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    import httpx

__all__ = ["Stoppable", "WorkerResources", "bind_owner", "current_resources", "unbind_owner"]

logger = logging.getLogger("edgekv.runtime")


class Stoppable(Protocol):
    """A running thing with an ``async stop()`` (an ASGI app's lifespan)."""

    async def stop(self) -> None: ...


class WorkerResources:
    """One runtime's HTTP pool, ASGI lifespans and background tasks (see module docstring)."""

    __slots__ = ("_client", "_closed", "_lifespans", "_tasks")

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._lifespans: dict[Any, Stoppable] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the Worker runtime that owns these resources is closed")

    def http_client(self) -> httpx.AsyncClient:
        """The connection pool for outbound ``fetch`` (opened on first use)."""
        self._check_open()
        client = self._client
        if client is None or client.is_closed:
            import httpx  # imported lazily: Workers that never fetch should not pay for it

            client = self._client = httpx.AsyncClient(follow_redirects=False, timeout=None)
        return client

    def lifespan(self, app: Any) -> Stoppable | None:
        """The running lifespan of ``app``, or ``None`` if none was recorded."""
        return self._lifespans.get(app)

    def keep_lifespan(self, app: Any, lifespan: Stoppable) -> None:
        """Record ``app``'s running lifespan; :meth:`close` stops it."""
        self._check_open()
        self._lifespans[app] = lifespan

    def keep(self, task: asyncio.Future[Any]) -> None:
        """Hold ``task`` until it ends; :meth:`close` cancels it if it still runs."""
        self._check_open()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel kept tasks, stop lifespans (in start order), close the pool. Idempotent.

        Errors while stopping are logged, never raised: closing must finish.
        """
        if self._closed:
            return
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        lifespans = list(self._lifespans.values())
        self._lifespans.clear()
        for lifespan in lifespans:
            try:
                await lifespan.stop()
            except Exception:
                logger.exception("Exception while stopping an ASGI lifespan")
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"WorkerResources({state}, lifespans={len(self._lifespans)}, "
                f"tasks={len(self._tasks)})")


_owner: ContextVar[WorkerResources | None] = ContextVar("edgekv_worker_resources", default=None)


def current_resources() -> WorkerResources | None:
    """The resources of the runtime serving the current request, or ``None`` outside one."""
    return _owner.get()


def bind_owner(resources: WorkerResources) -> Token[WorkerResources | None]:
    """Make ``resources`` current for this task (and tasks it starts); see :func:`unbind_owner`."""
    return _owner.set(resources)


def unbind_owner(token: Token[WorkerResources | None]) -> None:
    """Undo one :func:`bind_owner`."""
    _owner.reset(token)
