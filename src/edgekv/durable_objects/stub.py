"""``DurableObjectStub``: the client side of one object (docs/durable-objects.md,
"Stubs").

A stub is created without contacting the object. ``await stub.fetch(request)`` delivers the
request object as is (it is opaque to this package) and returns whatever the object's
``fetch`` returns. Any other public attribute is an RPC method: ``await stub.increment(5)``.
Arguments and results cross the boundary as deep copies made with structured-clone rules
(``codec.clone``), so caller and object never share mutable state; stubs and ids pass by
reference. Names starting with ``_`` are never exposed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgekv.durable_objects import codec
from edgekv.durable_objects.errors import DurableObjectReset, DurableObjectTypeError
from edgekv.durable_objects.gates import CURRENT_STORAGE
from edgekv.durable_objects.ids import DurableObjectId

if TYPE_CHECKING:
    from edgekv.durable_objects.host import NamespaceHost

__all__ = ["DurableObjectStub", "stub_host"]

NO_FETCH = "Handler does not export a fetch() function."


def _not_implemented(name: str) -> DurableObjectTypeError:
    return DurableObjectTypeError(f'The RPC receiver does not implement the method "{name}".')


class DurableObjectStub:
    """A handle on one Durable Object; cheap to create, safe to share."""

    __slots__ = ("__dict__", "_broken", "_host", "_id")

    def __init__(self, host: NamespaceHost, object_id: DurableObjectId) -> None:
        object.__setattr__(self, "_host", host)
        object.__setattr__(self, "_id", object_id)
        object.__setattr__(self, "_broken", None)

    def __setattr__(self, name: str, value: Any) -> None:
        """Properties may be set on a stub (workerd allows it); ``id`` and ``name`` are fixed."""
        if name in ("id", "name", "fetch") or name.startswith("_"):
            raise AttributeError(f"Cannot assign to read only property '{name}' of object")
        object.__setattr__(self, name, value)

    async def _dispatch(self, call: Any) -> Any:
        """Deliver through the host: the caller's output gate first, and a reset breaks us."""
        if self._broken is not None:
            raise self._broken
        caller = CURRENT_STORAGE.get()
        if caller is not None:
            await caller.confirm()  # an outgoing call waits for the caller's writes
        try:
            return await self._host.dispatch(self._id, call)
        except DurableObjectReset as exc:
            object.__setattr__(self, "_broken", exc)  # as workerd: get a new stub
            raise

    @property
    def id(self) -> DurableObjectId:
        """The object's id."""
        return self._id

    @property
    def name(self) -> str | None:
        """The name, when the id came from ``idFromName``."""
        return self._id.name

    async def fetch(self, request: Any, init: Any = None) -> Any:
        """Deliver ``request`` to the object's ``fetch`` handler and return its response.

        With ``init`` (or a URL string) and a request factory installed on the runtime,
        the factory builds the request first, as ``stub.fetch(url, init)`` does in JS.
        """
        factory = self._host.runtime.request_factory
        if factory is not None and (init is not None or isinstance(request, str)):
            request = factory(request, init)
        remote = self._host.runtime.remote
        if remote is not None:  # a cluster location that is not the primary (docs/cluster.md)
            return await remote.fetch(self._host.binding, self._id, request)

        def call(instance: Any) -> Any:
            handler = getattr(instance, "fetch", None)
            if not callable(handler):
                raise DurableObjectTypeError(NO_FETCH)
            return handler(request)

        return await self._dispatch(call)

    async def _call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        passthrough = self._host.runtime.passthrough_types
        args, kwargs = codec.clone(args, passthrough), codec.clone(kwargs, passthrough)
        remote = self._host.runtime.remote
        if remote is not None:
            return await remote.call(self._host.binding, self._id, method, args, kwargs)

        def call(instance: Any) -> Any:
            handler = getattr(instance, method, None)
            if not callable(handler):
                raise _not_implemented(method)
            return handler(*args, **kwargs)

        return codec.clone(await self._dispatch(call), passthrough)

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        async def rpc(*args: Any, **kwargs: Any) -> Any:
            return await self._call(method, args, kwargs)

        rpc.__name__ = method
        return rpc

    def __repr__(self) -> str:
        return f"DurableObjectStub({self._host.binding}, {self._id.toString()})"


def stub_host(stub: DurableObjectStub) -> NamespaceHost:
    """The namespace host behind ``stub`` (for test helpers; a stub's own attributes are
    the object's RPC methods, so this is a function, not a property)."""
    host: NamespaceHost = object.__getattribute__(stub, "_host")
    return host
