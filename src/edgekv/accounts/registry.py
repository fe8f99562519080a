"""``AccountRegistry``: accounts and API tokens, kept in the storage engine.

They live in reserved spaces of the same store as the KV data (``sys:accounts`` keyed by
account id, ``sys:tokens`` keyed by the token's digest), so every backend has them, the CLI
and a running server share them (SQLite's locking covers both), and servers sharing one
central store share them too. Each record is one JSON value written with one ``put``.

Credential checks read the store on every call (a point read costs microseconds): nothing is
cached, so a revoked token is refused by the next request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from edgekv.accounts.model import Account, ApiToken, Principal
from edgekv.accounts.secrets import (
    digest,
    digests_match,
    new_api_key,
    new_hex_id,
    new_token,
)
from edgekv.errors import AccountNotFound, TokenNotFound
from edgekv.storage import LOCAL_ACCOUNT_ID, Store

__all__ = ["ACCOUNTS_SPACE", "TOKENS_SPACE", "AccountRegistry", "CreatedAccount", "CreatedToken"]

ACCOUNTS_SPACE = "sys:accounts"
TOKENS_SPACE = "sys:tokens"
_LOCAL_ACCOUNT_NAME = "Local account"


@dataclass(frozen=True, slots=True)
class CreatedAccount:
    """A new account and, when created with an email, its global API key (shown once)."""

    account: Account
    api_key: str | None


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token and its secret value (shown once; only its digest is stored)."""

    token: ApiToken
    secret: str


class AccountRegistry:
    """Accounts and tokens of one store. Methods raise ``StorageError`` if the store fails."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- accounts --------------------------------------------------------------------------

    async def create_account(self, name: str | None = None, email: str | None = None,
                             *, account_id: str | None = None) -> CreatedAccount:
        """A new account (a fresh id unless given). With ``email``, a global API key too.

        Raises ``ValueError`` if the email is already used by another account."""
        if email is not None:
            email = email.strip()
            if not email or "@" not in email:
                raise ValueError(f"invalid email {email!r}")
            if await self._account_by_email(email) is not None:
                raise ValueError(f"an account with the email {email!r} already exists")
        api_key = new_api_key() if email is not None else None
        account = Account(
            id=account_id or new_hex_id(),
            name=name or (f"{email}'s Account" if email else "edgekv account"),
            email=email,
            created_on=self.store.clock.now(),
            key_digest=digest(api_key) if api_key is not None else None,
        )
        await self.store.put(ACCOUNTS_SPACE, account.id, _encode(account.to_json()))
        return CreatedAccount(account, api_key)

    async def ensure_local_account(self) -> Account:
        """The local account (owner of config namespaces in ``edgekv dev``), created if new."""
        found = await self.get_account(LOCAL_ACCOUNT_ID)
        if found is not None:
            return found
        return (await self.create_account(_LOCAL_ACCOUNT_NAME, account_id=LOCAL_ACCOUNT_ID)).account

    async def get_account(self, account_id: str) -> Account | None:
        record = await self.store.get(ACCOUNTS_SPACE, account_id)
        return Account.from_json(json.loads(record.value)) if record and record.value else None

    async def list_accounts(self) -> list[Account]:
        """Every account, oldest first (then by id)."""
        records = await self.store.scan(ACCOUNTS_SPACE, values=True)
        accounts = [Account.from_json(json.loads(r.value)) for r in records if r.value]
        return sorted(accounts, key=lambda a: (a.created_on, a.id))

    async def _account_by_email(self, email: str) -> Account | None:
        wanted = email.strip().lower()
        for account in await self.list_accounts():
            if account.email is not None and account.email.lower() == wanted:
                return account
        return None

    # -- tokens ----------------------------------------------------------------------------

    async def create_token(
        self,
        account_id: str,
        *,
        name: str | None = None,
        read_only: bool = False,
        namespaces: tuple[str, ...] = (),
        admin: bool = False,
        expires_in_seconds: int | None = None,
    ) -> CreatedToken:
        """A new token for ``account_id``. Raises ``AccountNotFound``."""
        if await self.get_account(account_id) is None:
            raise AccountNotFound(account_id)
        now = self.store.clock.now()
        secret = new_token()
        token = ApiToken(
            id=new_hex_id(),
            account_id=account_id,
            name=name or ("read-only token" if read_only else "read-write token"),
            read_only=read_only,
            namespaces=tuple(dict.fromkeys(namespaces)),
            admin=admin,
            created_on=now,
            expires_on=now + expires_in_seconds if expires_in_seconds is not None else None,
            digest=digest(secret),
        )
        await self.store.put(TOKENS_SPACE, token.digest, _encode(token.to_json()))
        return CreatedToken(token, secret)

    async def list_tokens(self, account_id: str | None = None) -> list[ApiToken]:
        """Tokens (of one account, or all), oldest first; revoked ones included."""
        records = await self.store.scan(TOKENS_SPACE, values=True)
        tokens = [ApiToken.from_json(json.loads(r.value)) for r in records if r.value]
        if account_id is not None:
            tokens = [t for t in tokens if t.account_id == account_id]
        return sorted(tokens, key=lambda t: (t.created_on, t.id))

    async def revoke_token(self, token_id: str) -> ApiToken:
        """Revoke a token (by id) at once. Raises ``TokenNotFound``."""
        for token in await self.list_tokens():
            if token.id == token_id:
                if token.revoked_on is not None:
                    return token
                revoked = replace(token, revoked_on=self.store.clock.now())
                await self.store.put(TOKENS_SPACE, token.digest, _encode(revoked.to_json()))
                return revoked
        raise TokenNotFound(token_id)

    # -- credential checks -----------------------------------------------------------------

    async def token_for_secret(self, secret: str) -> ApiToken | None:
        """The token whose secret this is, whatever its status; ``None`` if unknown."""
        if not secret or len(secret) > 256:
            return None
        key = digest(secret)
        record = await self.store.get(TOKENS_SPACE, key)
        if record is None or not record.value:
            return None
        token = ApiToken.from_json(json.loads(record.value))
        return token if digests_match(secret, token.digest) else None

    async def authenticate_token(self, secret: str) -> Principal | None:
        """The principal of an active token, or ``None``."""
        token = await self.token_for_secret(secret)
        if token is None or token.status(self.store.clock.now()) != "active":
            return None
        account = await self.get_account(token.account_id)
        return Principal(account, token) if account is not None else None

    async def authenticate_key(self, email: str, api_key: str) -> Principal | None:
        """The principal of a global API key, or ``None``."""
        if not email or not api_key or len(api_key) > 256:
            return None
        account = await self._account_by_email(email)
        if account is None or account.key_digest is None:
            return None
        return Principal(account) if digests_match(api_key, account.key_digest) else None


def _encode(data: dict[str, object]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
