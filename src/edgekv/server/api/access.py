"""Who may do what: the credential of a request turned into an ``Access``.

- ``edgekv serve`` always requires a credential: ``Authorization: Bearer <token>`` or
  ``X-Auth-Email`` + ``X-Auth-Key`` (a global API key). Both are checked against the store
  on every request, so revocations and expiries apply at once.
- ``edgekv dev`` is open (like Miniflare's local explorer API): a request without a
  credential gets ``OPEN_ACCESS`` to every account. A request that does send a credential is
  checked as in ``serve``. The dev server guards these paths by Host and Origin instead
  (``edgekv.server.guard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from edgekv.accounts import AccountRegistry, Principal
from edgekv.server.api.asgi import ApiRequest

__all__ = ["OPEN_ACCESS", "Access", "Authenticator", "OpenAccess"]


class Access(Protocol):
    """What a checked request may reach."""

    @property
    def read_only(self) -> bool: ...

    @property
    def admin(self) -> bool: ...

    def covers_account(self, account_id: str) -> bool: ...

    def covers_namespace(self, namespace_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class OpenAccess:
    """Everything, read-write: ``edgekv dev`` without a credential."""

    read_only: bool = False
    admin: bool = True

    def covers_account(self, account_id: str) -> bool:
        return True

    def covers_namespace(self, namespace_id: str) -> bool:
        return True


OPEN_ACCESS = OpenAccess()


class Authenticator:
    """Checks the credential headers of a request against the account registry."""

    def __init__(self, registry: AccountRegistry, *, open_without_credential: bool = False) -> None:
        self.registry = registry
        self.open_without_credential = open_without_credential

    @staticmethod
    def bearer(request: ApiRequest) -> str | None:
        """The Bearer token of the request, or ``None``."""
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip() or None

    async def principal(self, request: ApiRequest) -> Principal | None:
        """The principal of a valid credential, or ``None`` (none sent, or not valid)."""
        token = self.bearer(request)
        if token is not None:
            return await self.registry.authenticate_token(token)
        email = request.headers.get("x-auth-email")
        key = request.headers.get("x-auth-key")
        if email is not None and key is not None:
            return await self.registry.authenticate_key(email.strip(), key.strip())
        return None

    def sent_credential(self, request: ApiRequest) -> bool:
        headers = request.headers
        return "authorization" in headers or "x-auth-key" in headers or "x-auth-email" in headers

    async def access(self, request: ApiRequest) -> Access | None:
        """The access of the request, or ``None`` when it must be refused."""
        if self.open_without_credential and not self.sent_credential(request):
            return OPEN_ACCESS
        return await self.principal(request)
