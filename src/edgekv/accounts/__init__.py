"""Accounts and API credentials for the REST API (``edgekv serve``).

An *account* owns KV namespaces (32 hex digits, like Cloudflare's account ids). Clients prove
who they are with an API token (``Authorization: Bearer``) or, for accounts created with an
email, a global API key (``X-Auth-Email`` + ``X-Auth-Key``). Secrets are shown once and
stored only as SHA-256 digests; every request is checked against the store, so a revocation
takes effect at once, in every server that shares the store.

Modules::

    model       Account, ApiToken, Principal (what a checked credential may do)
    secrets     secret generation, digests, constant-time comparison, durations ("30d")
    registry    AccountRegistry: accounts and tokens kept in the storage engine
"""

from __future__ import annotations

from edgekv.accounts.model import Account, ApiToken, Principal
from edgekv.accounts.registry import AccountRegistry, CreatedAccount, CreatedToken
from edgekv.accounts.secrets import parse_duration

__all__ = [
    "Account",
    "AccountRegistry",
    "ApiToken",
    "CreatedAccount",
    "CreatedToken",
    "Principal",
    "parse_duration",
]
