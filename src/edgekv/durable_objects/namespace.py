"""``DurableObjectNamespace``: the binding placed on ``env`` (docs/durable-objects.md,
"The namespace binding").

Every method has Cloudflare's camelCase name and a snake_case alias. ``get`` and
``getByName`` return a stub at once; nothing is constructed until the stub is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from edgekv.durable_objects.errors import DurableObjectError, DurableObjectTypeError
from edgekv.durable_objects.ids import NO_JURISDICTIONS, WRONG_NAMESPACE, DurableObjectId
from edgekv.durable_objects.stub import DurableObjectStub

if TYPE_CHECKING:
    from edgekv.durable_objects.host import NamespaceHost

__all__ = ["DurableObjectNamespace", "namespace_host"]


class DurableObjectNamespace:
    """The namespace binding of one Durable Object class."""

    __slots__ = ("_host",)

    def __init__(self, host: NamespaceHost) -> None:
        self._host = host

    def idFromName(self, name: str) -> DurableObjectId:
        """The deterministic id for ``name`` (same name, same id, across restarts)."""
        return self._host.ids.from_name(name)

    def newUniqueId(
        self, options: Mapping[str, Any] | None = None, *, jurisdiction: str | None = None
    ) -> DurableObjectId:
        """A fresh random id. ``jurisdiction`` raises, as in workerd."""
        jurisdiction = (options or {}).get("jurisdiction", jurisdiction)
        return self._host.ids.new_unique(jurisdiction)

    def idFromString(self, text: str) -> DurableObjectId:
        """Rebuild an id from ``toString()``. Raises ``DurableObjectTypeError`` if invalid."""
        return self._host.ids.from_string(text)

    def get(
        self, object_id: DurableObjectId, options: Mapping[str, Any] | None = None, **_kw: Any
    ) -> DurableObjectStub:
        """A stub for ``object_id`` (``locationHint`` is accepted and ignored)."""
        if not isinstance(object_id, DurableObjectId):
            raise DurableObjectTypeError("get() requires a DurableObjectId")
        if not self._host.ids.owns(object_id):
            raise DurableObjectTypeError(WRONG_NAMESPACE)
        return DurableObjectStub(self._host, object_id)

    def getByName(
        self, name: str, options: Mapping[str, Any] | None = None, **_kw: Any
    ) -> DurableObjectStub:
        """Shortcut for ``get(idFromName(name))``."""
        return DurableObjectStub(self._host, self._host.ids.from_name(name))

    def jurisdiction(self, name: str | None) -> DurableObjectNamespace:
        """``None`` gives this namespace back; a named jurisdiction raises, as in workerd."""
        if name is None:
            return self
        raise DurableObjectError(NO_JURISDICTIONS)

    id_from_name = idFromName
    new_unique_id = newUniqueId
    id_from_string = idFromString
    get_by_name = getByName

    @property
    def binding(self) -> str:
        """The ``env`` property name this namespace was registered under."""
        return self._host.binding

    def __repr__(self) -> str:
        return f"DurableObjectNamespace({self._host.binding!r}, class={self._host.cls.__name__})"



def namespace_host(namespace: DurableObjectNamespace) -> NamespaceHost:
    """The host behind a namespace binding (for test helpers, as :func:`stub_host`)."""
    return namespace._host
