"""``KVClient``: one interface for KV data, wherever it lives.

Two implementations: ``LocalKV`` (the project's store, opened in process) and ``RemoteKV``
(a server speaking Cloudflare's v4 KV REST API: ``edgekv serve``, ``edgekv dev``, or
Cloudflare itself). Every ``edgekv kv`` command is one call into this interface, so local
and remote runs do the same work and differ only in where it happens.

Values travel as ``Record`` (``key``, ``value`` bytes, absolute ``expiration`` in epoch
seconds, ``metadata`` as JSON text), the storage layer's own shape.

Errors: KV rule violations raise the binding's ``KVError``/``KVTypeError`` (local, and
remote when checked before sending); ``NamespaceTitleExists``/``NamespaceNotFound`` for
namespace clashes; a remote refusal raises ``ApiRequestFailed`` with wrangler's text.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any, Literal, Self

from edgekv.kv import KVNamespace
from edgekv.storage import NamespaceInfo, Record

__all__ = ["KVClient", "Progress"]

Progress = Callable[[int, int], None]
"""Called before the first bulk request and after each one with (items done, items in all)."""


class KVClient(abc.ABC):
    """Namespaces, keys and bulk data of one KV service. Use as ``async with client``."""

    location: Literal["local", "remote"]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the store or the HTTP connections."""

    @abc.abstractmethod
    def validator(self, namespace_id: str) -> KVNamespace:
        """A binding whose ``prepare_put`` checks writes with the KV service's rules (no I/O):
        bulk loads are checked whole before anything is sent."""

    # -- namespaces ------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_namespace(self, title: str) -> NamespaceInfo:
        """A new namespace. Raises ``NamespaceTitleExists``."""

    @abc.abstractmethod
    async def list_namespaces(self) -> list[NamespaceInfo]:
        """Every namespace, by title."""

    async def namespace_by_title(self, title: str) -> NamespaceInfo | None:
        return next((ns for ns in await self.list_namespaces() if ns.title == title), None)

    @abc.abstractmethod
    async def rename_namespace(self, namespace_id: str, title: str) -> None:
        """Raises ``NamespaceNotFound``/``NamespaceTitleExists`` (local) or ``ApiRequestFailed``."""

    @abc.abstractmethod
    async def delete_namespace(self, namespace_id: str) -> None:
        """Delete a namespace and all of its keys."""

    # -- keys ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def put(self, namespace_id: str, key: str, value: bytes | str, *,
                  expiration: int | None = None, expiration_ttl: int | None = None,
                  metadata: Any = None) -> None:
        """Write one key (``metadata``: a JSON-able value, ``None`` for none)."""

    @abc.abstractmethod
    async def get(self, namespace_id: str, key: str) -> Record | None:
        """The value and expiration of ``key`` (metadata not fetched), ``None`` if missing."""

    @abc.abstractmethod
    async def get_with_metadata(self, namespace_id: str, key: str) -> Record | None:
        """Like ``get``, with the metadata."""

    def missing_value_error(self, namespace_id: str, key: str) -> str | None:
        """What wrangler reports for a missing key on ``kv key get``: ``None`` means "print
        `Value not found` and succeed" (local); remote runs fail with this text."""
        return None

    @abc.abstractmethod
    def list_keys(self, namespace_id: str, prefix: str = "") -> AsyncIterator[Record]:
        """Every key (value ``None``) with expiration and metadata, in key order, all pages."""

    @abc.abstractmethod
    async def delete(self, namespace_id: str, key: str) -> None:
        """Remove one key (no error if it is missing)."""

    # -- bulk ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def put_bulk(self, namespace_id: str, records: Iterable[Record], *,
                       progress: Progress | None = None) -> int:
        """Store records made by ``validator(...).prepare_put``; returns how many.

        ``records`` may be a lazy iterator that raises after its last item: then nothing
        is stored (local: one transaction; remote: nothing is sent before the iterator is
        exhausted, then it goes in requests under the API's limits). ``progress`` hears
        about each request of a remote write; a local write is one step and reports nothing."""

    @abc.abstractmethod
    async def get_bulk(self, namespace_id: str, keys: list[str]) -> dict[str, bytes | None]:
        """The values of ``keys`` (``None`` when missing), in the order given."""

    @abc.abstractmethod
    async def delete_bulk(self, namespace_id: str, keys: list[str], *,
                          progress: Progress | None = None) -> None:
        """Delete ``keys`` (checked first: a bad key deletes nothing)."""

    @abc.abstractmethod
    def export(self, namespace_id: str, prefix: str = "") -> AsyncIterator[Record]:
        """Every live record with its value, expiration and metadata, in key order, with
        memory flat in the size of the namespace."""
