"""Durable Object ids, built the way workerd builds them (``actor-id-impl.c++``).

- The namespace key is SHA-256 of the namespace's unique key.
- An id is 32 bytes: a 16-byte *base* followed by the first 16 bytes of
  HMAC-SHA256(key, base).
- ``idFromName``: base = HMAC-SHA256(key, UTF-8 name)[:16]. ``newUniqueId``: 16 random bytes.
- ``idFromString`` accepts exactly 64 hex digits whose MAC matches this namespace.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from edgekv.durable_objects.errors import DurableObjectError, DurableObjectTypeError

__all__ = ["DurableObjectId", "IdFactory"]

_BASE_BYTES = 16
INVALID_HEX = "Invalid Durable Object ID: must be 64 hex digits"
WRONG_NAMESPACE = "Durable Object ID is not valid for this namespace."
NO_JURISDICTIONS = "Jurisdiction restrictions are not implemented in workerd."
_HEX = frozenset("0123456789abcdefABCDEF")


class DurableObjectId:
    """An object id: 64 lowercase hex digits, plus the name when made by ``idFromName``.

    Immutable and hashable; equality compares the 32 id bytes only (as ``equals`` does).
    """

    __slots__ = ("_hex", "_name")

    def __init__(self, hex_id: str, name: str | None = None) -> None:
        self._hex = hex_id
        self._name = name

    @property
    def name(self) -> str | None:
        """The name given to ``idFromName``, else ``None`` (JS ``undefined``)."""
        return self._name

    @property
    def jurisdiction(self) -> str | None:
        """Always ``None``: jurisdictions are not implemented locally (as in workerd)."""
        return None

    def toString(self) -> str:
        """The 64 lowercase hex digits."""
        return self._hex

    to_string = toString

    def equals(self, other: DurableObjectId) -> bool:
        """``True`` when ``other`` names the same object."""
        return isinstance(other, DurableObjectId) and other._hex == self._hex

    def __str__(self) -> str:
        return self._hex

    def __repr__(self) -> str:
        suffix = f", name={self._name!r}" if self._name is not None else ""
        return f"DurableObjectId({self._hex!r}{suffix})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DurableObjectId) and other._hex == self._hex

    def __hash__(self) -> int:
        return hash(self._hex)

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr in DurableObjectId.__slots__ and not hasattr(self, attr):
            object.__setattr__(self, attr, value)
            return
        raise AttributeError("DurableObjectId is immutable")


class IdFactory:
    """Makes and checks ids for one namespace, keyed by the namespace's unique key."""

    __slots__ = ("_key",)

    def __init__(self, unique_key: str) -> None:
        self._key = hashlib.sha256(unique_key.encode("utf-8")).digest()

    def _mac(self, base: bytes) -> bytes:
        return hmac.new(self._key, base, hashlib.sha256).digest()[:_BASE_BYTES]

    def from_name(self, name: str) -> DurableObjectId:
        """The deterministic id for ``name``."""
        if not isinstance(name, str):
            raise DurableObjectTypeError("idFromName() requires a string name")
        base = hmac.new(self._key, name.encode("utf-8"), hashlib.sha256).digest()[:_BASE_BYTES]
        return DurableObjectId((base + self._mac(base)).hex(), name)

    def new_unique(self, jurisdiction: str | None = None) -> DurableObjectId:
        """A random id. Jurisdictions raise, as in workerd."""
        if jurisdiction is not None:
            raise DurableObjectError(NO_JURISDICTIONS)
        base = secrets.token_bytes(_BASE_BYTES)
        return DurableObjectId((base + self._mac(base)).hex())

    def from_string(self, text: str) -> DurableObjectId:
        """Rebuild an id from ``toString()`` output. Raises ``DurableObjectTypeError``."""
        if not isinstance(text, str) or len(text) != 64 or not _HEX.issuperset(text):
            raise DurableObjectTypeError(INVALID_HEX)
        raw = bytes.fromhex(text)
        if not hmac.compare_digest(self._mac(raw[:_BASE_BYTES]), raw[_BASE_BYTES:]):
            raise DurableObjectTypeError(WRONG_NAMESPACE)
        return DurableObjectId(raw.hex())

    def owns(self, object_id: DurableObjectId) -> bool:
        """``True`` when ``object_id`` was made by this namespace."""
        raw = bytes.fromhex(object_id.toString())
        return hmac.compare_digest(self._mac(raw[:_BASE_BYTES]), raw[_BASE_BYTES:])
