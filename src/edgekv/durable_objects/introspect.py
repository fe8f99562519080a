"""Reaching into objects from tests, as vitest-pool-workers' ``cloudflare:test`` does.

These functions are for test code (``edgekv.testing`` re-exports them); a Worker never needs
them. They deliver through the object's input gate like any other event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from edgekv.durable_objects.ids import DurableObjectId
from edgekv.durable_objects.namespace import DurableObjectNamespace, namespace_host
from edgekv.durable_objects.stub import DurableObjectStub, stub_host

__all__ = [
    "evict_all_durable_objects",
    "evict_durable_object",
    "list_durable_object_ids",
    "run_durable_object_alarm",
    "run_in_durable_object",
]


def _check(stub: Any) -> DurableObjectStub:
    if not isinstance(stub, DurableObjectStub):
        raise TypeError("expected a Durable Object stub (namespace.get(id) / getByName(name))")
    return stub


async def run_in_durable_object(stub: DurableObjectStub, fn: Callable[[Any, Any], Any]) -> Any:
    """Run ``fn(instance, ctx)`` inside the object (sync or async); return its result.

    The object is constructed first if needed; ``fn`` runs as one of its events.
    """
    stub = _check(stub)
    return await stub_host(stub).run_in(stub.id, fn)


async def run_durable_object_alarm(stub: DurableObjectStub) -> bool:
    """Run and remove the object's scheduled alarm now. ``True`` if one ran, else ``False``."""
    stub = _check(stub)
    host = stub_host(stub)
    return await host.runtime.run_alarm_now(host.unique_key, stub.id.toString())


def list_durable_object_ids(namespace: DurableObjectNamespace) -> list[DurableObjectId]:
    """Ids of the namespace's objects that exist: with storage, or that received an event."""
    if not isinstance(namespace, DurableObjectNamespace):
        raise TypeError("expected a Durable Object namespace binding")
    return namespace_host(namespace).stored_ids()


#: The close code clients see when ``webSockets: "close"`` closes their hibernated socket
#: ("going away": the server end is leaving).
EVICTION_CLOSE_CODE = 1001
EVICTION_CLOSE_REASON = "Durable Object evicted"


def _web_sockets_option(options: Any, web_sockets: str | None) -> str:
    """``{"webSockets": "hibernate" | "close"}`` (vitest's options) or ``web_sockets=``."""
    if web_sockets is None and options is not None:
        if not isinstance(options, Mapping):
            raise TypeError("options must be a dict like {\"webSockets\": \"close\"}")
        web_sockets = options.get("webSockets", options.get("web_sockets"))
    mode = web_sockets or "hibernate"
    if mode not in ("hibernate", "close"):
        raise TypeError(f'webSockets must be "hibernate" or "close", not {mode!r}')
    return mode


def evict_durable_object(
    stub: DurableObjectStub, options: Mapping[str, Any] | None = None, *,
    web_sockets: str | None = None,
) -> None:
    """Drop the object's in-memory instance now; its storage stays, the next call reloads.

    ``webSockets`` (``options={"webSockets": ...}`` or ``web_sockets=``): ``"hibernate"``
    (the default) keeps the object's accepted WebSockets connected, so their next message
    wakes a new instance; ``"close"`` closes them (the clients get code 1001).
    """
    stub = _check(stub)
    mode = _web_sockets_option(options, web_sockets)
    stub_host(stub).evict(stub.id)
    if mode == "close":
        stub_host(stub).hibernation.close_object(
            stub.id.toString(), EVICTION_CLOSE_CODE, EVICTION_CLOSE_REASON)


def evict_all_durable_objects(
    namespace: DurableObjectNamespace, options: Mapping[str, Any] | None = None, *,
    web_sockets: str | None = None,
) -> None:
    """Drop every in-memory instance of the runtime ``namespace`` belongs to (storage stays).

    ``webSockets`` as for :func:`evict_durable_object`, for every namespace of the runtime.
    """
    if not isinstance(namespace, DurableObjectNamespace):
        raise TypeError("expected a Durable Object namespace binding")
    mode = _web_sockets_option(options, web_sockets)
    namespace_host(namespace).runtime.evict_all_instances(
        (EVICTION_CLOSE_CODE, EVICTION_CLOSE_REASON) if mode == "close" else None)
