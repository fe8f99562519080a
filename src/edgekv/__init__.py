"""edgekv: Cloudflare Workers KV, Python Workers and Durable Objects on CPython.

For scripts and tests::

    async with edgekv.open_namespace("sqlite:///data/kv.sqlite3", "my-namespace-id") as kv:
        await kv.put("greeting", "hello")
        print(await kv.get("greeting"))
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from edgekv.clock import Clock
from edgekv.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from edgekv.kv import KVNamespace

__all__ = ["__version__", "open_namespace"]

__version__ = "0.1.0"


@asynccontextmanager
async def open_namespace(
    url: str,
    namespace_id: str,
    *,
    title: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    clock: Clock | None = None,
) -> AsyncIterator[KVNamespace]:
    """Open the store at ``url``, register ``namespace_id`` if it is new, and yield its
    ``KVNamespace`` binding; the store is closed on exit."""
    from edgekv.kv import KVNamespace
    from edgekv.storage import open_store

    store = open_store(url, clock=clock)
    try:
        await store.ensure_namespace(namespace_id, title)
        yield KVNamespace(store, namespace_id, limits=limits)
    finally:
        await store.close()
