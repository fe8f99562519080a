"""``RemoteObjects``: where a location that does not run Durable Objects sends stub calls.

In a cluster (docs/cluster.md) objects live on the primary location only, so no object ever
runs twice. On the other locations the runtime's ``remote`` is set, and every stub call
(``fetch``, WebSocket upgrades included, and RPC) goes through it instead of a local
instance; this package only defines the hook. The transport (HTTP, or a WebSocket for an
upgrade, to the primary with the lease's internal credential) is
``edgekv.server.do_forwarding``.
"""

from __future__ import annotations

from typing import Any, Protocol

from edgekv.durable_objects.ids import DurableObjectId

__all__ = ["RemoteObjects"]


class RemoteObjects(Protocol):
    """Delivers stub calls to objects that run elsewhere. Errors raised by the object are
    raised again here; an unreachable owner raises ``DurableObjectError`` at once."""

    async def fetch(self, binding: str, object_id: DurableObjectId, request: Any) -> Any:
        """The object's ``fetch(request)`` result (a Response)."""
        ...

    async def call(self, binding: str, object_id: DurableObjectId, method: str,
                   args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The result of RPC ``method(*args, **kwargs)`` on the object."""
        ...
