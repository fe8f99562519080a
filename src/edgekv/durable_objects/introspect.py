"""Reaching into objects from tests, as vitest-pool-workers' ``cloudflare:test`` does.

These functions are for test code (``edgekv.testing`` re-exports them); a Worker never needs
them. They deliver through the object's input gate like any other event.
"""

from __future__ import annotations

from collections.abc import Callable
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


def evict_durable_object(stub: DurableObjectStub) -> None:
    """Drop the object's in-memory instance now; its storage stays, the next call reloads."""
    stub = _check(stub)
    stub_host(stub).evict(stub.id)


def evict_all_durable_objects(namespace: DurableObjectNamespace) -> None:
    """Drop every in-memory instance of the runtime ``namespace`` belongs to (storage stays)."""
    if not isinstance(namespace, DurableObjectNamespace):
        raise TypeError("expected a Durable Object namespace binding")
    namespace_host(namespace).runtime.evict_all_instances()
