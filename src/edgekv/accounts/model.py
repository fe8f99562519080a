"""The records of the account registry and what a checked credential may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Account", "ApiToken", "Principal"]


@dataclass(frozen=True, slots=True)
class Account:
    """An account: ``id`` (32 hex), a display ``name``, and the ``email`` of its global API
    key (``None`` when it has no key). ``created_on`` is epoch seconds as the store's clock
    gives them (a float; a record read back from the store has whole seconds)."""

    id: str
    name: str
    email: str | None
    created_on: float
    key_digest: str | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email,
                "created_on": self.created_on, "key_digest": self.key_digest}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Account:
        return cls(data["id"], data["name"], data.get("email"), int(data["created_on"]),
                   data.get("key_digest"))


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token. ``namespaces`` empty means every namespace of the account; ``admin``
    tokens also reach what belongs to no account (Durable Objects in the explorer).
    ``expires_on``, ``created_on`` and ``revoked_on`` (set once revoked) are epoch seconds as
    the store's clock gives them (floats; ``created_on`` read back from the store has whole
    seconds).
    """

    id: str
    account_id: str
    name: str
    read_only: bool
    namespaces: tuple[str, ...]
    admin: bool
    created_on: float
    expires_on: float | None
    digest: str = field(repr=False)
    revoked_on: float | None = None

    def status(self, now: float) -> str:
        """``active``, ``expired`` or ``revoked``: the words Cloudflare's token API uses."""
        if self.revoked_on is not None:
            return "revoked"
        if self.expires_on is not None and self.expires_on <= now:
            return "expired"
        return "active"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "account_id": self.account_id, "name": self.name,
                "read_only": self.read_only, "namespaces": list(self.namespaces),
                "admin": self.admin, "created_on": self.created_on,
                "expires_on": self.expires_on, "digest": self.digest,
                "revoked_on": self.revoked_on}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiToken:
        return cls(data["id"], data["account_id"], data["name"], bool(data["read_only"]),
                   tuple(data.get("namespaces") or ()), bool(data.get("admin")),
                   int(data["created_on"]), data.get("expires_on"), data["digest"],
                   data.get("revoked_on"))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request comes from, once its credential checked out.

    A global API key (``token is None``) may do everything in its account. A token may do
    what it was created for: read only or read-write, in every namespace of its account or
    only in ``token.namespaces``.
    """

    account: Account
    token: ApiToken | None = None

    @property
    def account_id(self) -> str:
        return self.account.id

    @property
    def read_only(self) -> bool:
        return self.token is not None and self.token.read_only

    @property
    def admin(self) -> bool:
        return self.token is None or self.token.admin

    def covers_account(self, account_id: str) -> bool:
        return account_id == self.account.id

    def covers_namespace(self, namespace_id: str) -> bool:
        """Whether the credential reaches ``namespace_id`` (of its own account)."""
        if self.token is None or not self.token.namespaces:
            return True
        return namespace_id in self.token.namespaces
