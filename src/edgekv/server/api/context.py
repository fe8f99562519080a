"""``ApiContext``: what every handler of the API needs, and the checks they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from edgekv.accounts import AccountRegistry
from edgekv.errors import KVError, KVSyntaxError, KVTypeError
from edgekv.kv import KVNamespace
from edgekv.limits import DEFAULT_LIMITS, Limits
from edgekv.server.api.access import Access, Authenticator
from edgekv.server.api.envelope import AUTH_ERROR, ApiError
from edgekv.storage import NamespaceInfo, Store

__all__ = ["DEFAULT_MAX_BODY_BYTES", "MAX_NAMESPACES_PER_ACCOUNT", "ApiContext", "decode_segment",
           "kv_error"]

DEFAULT_MAX_BODY_BYTES = 100_000_000  # Cloudflare's request body limit (100 MB)
MAX_NAMESPACES_PER_ACCOUNT = 1000  # since January 2025


def decode_segment(raw: str, what: str) -> str:
    """Percent-decode one path segment (``%2F`` included) into text. A segment that is not
    UTF-8 once decoded is refused with 400, as the KV service refuses such key names."""
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, 10001, f"Could not URL-decode {what}") from None


def kv_error(exc: KVError | KVTypeError | KVSyntaxError) -> ApiError:
    """A binding error as the API reports it: the service's status and text, code 10001."""
    status = exc.status if isinstance(exc, KVError) else 400
    text = exc.status_text if isinstance(exc, KVError) else str(exc)
    return ApiError(status, 10001, text)


@dataclass
class ApiContext:
    """The store, the account registry, the limits and the authenticator of one API."""

    store: Store
    registry: AccountRegistry
    authenticator: Authenticator
    limits: Limits = DEFAULT_LIMITS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_namespaces_per_account: int = MAX_NAMESPACES_PER_ACCOUNT
    _bindings: dict[str, KVNamespace] = field(default_factory=dict)

    def binding(self, namespace_id: str) -> KVNamespace:
        """The KV binding of a namespace: the API applies the very rules ``env.NS`` applies.

        Index-like keys ("0", "42") are kept in bulk reads: the workerd quirk that drops them
        belongs to the binding's JS conversion, not to the HTTP API.
        """
        found = self._bindings.get(namespace_id)
        if found is None:
            if len(self._bindings) > 4096:
                self._bindings.clear()
            found = self._bindings[namespace_id] = KVNamespace(
                self.store, namespace_id, limits=self.limits, drop_index_keys=False
            )
        return found

    @staticmethod
    def check_account(access: Access, account_id: str) -> None:
        """403/10000 unless the credential covers the account: checked before anything else,
        so nothing tells whether another account or its namespaces exist."""
        if not access.covers_account(account_id):
            raise AUTH_ERROR

    @staticmethod
    def check_write(access: Access) -> None:
        if access.read_only:
            raise AUTH_ERROR

    async def namespace(self, access: Access, account_id: str, raw_id: str, op: str) -> NamespaceInfo:
        """The namespace ``raw_id`` of ``account_id``, or 404/10013 (403 outside the token's
        namespaces)."""
        namespace_id = decode_segment(raw_id, "namespace id")
        if not access.covers_namespace(namespace_id):
            raise AUTH_ERROR
        info = await self.store.get_namespace(namespace_id)
        if info is None or info.account_id != account_id:
            raise ApiError(404, 10013, f"{op}: 'namespace not found'")
        return info
