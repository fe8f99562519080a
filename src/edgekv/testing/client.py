"""``WorkerClient``: an ``httpx.AsyncClient`` wired into a Worker in process (vitest's ``SELF``).

Requests go through ``httpx.ASGITransport`` into ``WorkerRuntime.asgi_app``: the same code
path as ``edgekv dev`` minus the socket. An uncaught exception in the Worker answers 500 with
the error page, as on ``wrangler dev``. ``waitUntil`` work keeps running after a response;
``await client.wait_background()`` waits for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from edgekv.runtime.worker import WorkerRuntime

__all__ = ["DEFAULT_BASE_URL", "WorkerClient"]

DEFAULT_BASE_URL = "http://localhost"


class WorkerClient(httpx.AsyncClient):
    """An HTTP client for one ``WorkerRuntime``; ``runtime`` is that runtime."""

    def __init__(
        self, runtime: WorkerRuntime, *, base_url: str = DEFAULT_BASE_URL, app: Any = None,
        **kwargs: Any
    ) -> None:
        transport = httpx.ASGITransport(app=app if app is not None else runtime.asgi_app)
        super().__init__(transport=transport, base_url=base_url, **kwargs)
        self.runtime = runtime

    async def wait_background(self, timeout_seconds: float | None = 30.0) -> None:
        """Wait until the ``ctx.waitUntil`` work of every request so far has finished.

        Errors of that work are logged (``edgekv.runtime``), not raised; ``TimeoutError``
        after ``timeout_seconds``.
        """
        await self.runtime.wait_background(timeout_seconds)

    async def scheduled(
        self, cron: str = "", scheduled_time: Any = None
    ) -> Any:
        """Run the Worker's ``scheduled(controller, env, ctx)`` once, as a Cron Trigger would.

        ``scheduled_time`` is epoch seconds or a ``datetime`` (default: the runtime's clock).
        Raises what the handler raises; returns the outcome (``.outcome == "ok"``,
        ``.no_retry``). ``waitUntil`` work continues; ``wait_background()`` waits for it.
        """
        return await self.runtime.scheduled(cron, scheduled_time)
