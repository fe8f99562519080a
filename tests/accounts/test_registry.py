"""``edgekv.accounts.AccountRegistry`` on every backend: accounts, tokens, credential checks."""

from __future__ import annotations

import pytest

from edgekv.accounts import AccountRegistry, parse_duration
from edgekv.accounts.registry import TOKENS_SPACE
from edgekv.clock import FakeClock
from edgekv.errors import AccountNotFound, TokenNotFound
from edgekv.storage import LOCAL_ACCOUNT_ID, Store


async def test_account_ids_are_32_hex_and_listed_in_creation_order(store: Store, clock: FakeClock) -> None:
    registry = AccountRegistry(store)
    first = (await registry.create_account("first")).account
    clock.advance(1)
    second = (await registry.create_account("second")).account
    assert len(first.id) == 32 and int(first.id, 16) >= 0
    assert [a.id for a in await registry.list_accounts()] == [first.id, second.id]
    assert await registry.get_account(first.id) == first
    assert await registry.get_account("0" * 32) is None


async def test_global_api_key_checks_email_and_key(store: Store) -> None:
    registry = AccountRegistry(store)
    created = await registry.create_account(email="ada@example.com")
    assert created.api_key is not None and len(created.api_key) == 37
    principal = await registry.authenticate_key("ADA@example.com", created.api_key)
    assert principal is not None and principal.account_id == created.account.id
    assert principal.admin and not principal.read_only
    assert await registry.authenticate_key("ada@example.com", created.api_key + "x") is None
    assert await registry.authenticate_key("bob@example.com", created.api_key) is None
    with pytest.raises(ValueError, match="already exists"):
        await registry.create_account(email="ada@example.com")


async def test_tokens_are_stored_as_digests_only(store: Store) -> None:
    registry = AccountRegistry(store)
    account = (await registry.create_account()).account
    created = await registry.create_token(account.id)
    assert len(created.secret) == 40
    records = await store.scan(TOKENS_SPACE, values=True)
    assert len(records) == 1
    assert created.secret.encode() not in (records[0].value or b"")
    assert created.secret not in records[0].key


async def test_token_scopes(store: Store) -> None:
    registry = AccountRegistry(store)
    account = (await registry.create_account()).account
    read_only = await registry.create_token(account.id, read_only=True, namespaces=("n1",))
    principal = await registry.authenticate_token(read_only.secret)
    assert principal is not None and principal.read_only
    assert principal.covers_namespace("n1") and not principal.covers_namespace("n2")
    assert principal.covers_account(account.id) and not principal.covers_account(LOCAL_ACCOUNT_ID)
    assert not principal.admin
    everything = await registry.authenticate_token((await registry.create_token(account.id)).secret)
    assert everything is not None and everything.covers_namespace("anything")


async def test_revocation_takes_effect_at_once(store: Store) -> None:
    registry = AccountRegistry(store)
    account = (await registry.create_account()).account
    created = await registry.create_token(account.id)
    assert await registry.authenticate_token(created.secret) is not None
    revoked = await registry.revoke_token(created.token.id)
    assert revoked.revoked_on is not None
    assert await registry.authenticate_token(created.secret) is None
    assert (await registry.list_tokens(account.id))[0].status(0) == "revoked"
    with pytest.raises(TokenNotFound):
        await registry.revoke_token("f" * 32)


async def test_tokens_expire_on_the_injected_clock(store: Store, clock: FakeClock) -> None:
    registry = AccountRegistry(store)
    account = (await registry.create_account()).account
    created = await registry.create_token(account.id, expires_in_seconds=parse_duration("90m"))
    clock.advance(90 * 60 - 1)
    assert await registry.authenticate_token(created.secret) is not None
    clock.advance(1)
    assert await registry.authenticate_token(created.secret) is None
    assert created.token.status(clock.now()) == "expired"


async def test_unknown_and_malformed_secrets_are_refused(store: Store) -> None:
    registry = AccountRegistry(store)
    assert await registry.authenticate_token("") is None
    assert await registry.authenticate_token("x" * 10_000) is None
    assert await registry.authenticate_token("\ud800") is None
    with pytest.raises(AccountNotFound):
        await registry.create_token("0" * 32)


def test_parse_duration() -> None:
    assert parse_duration("30d") == 30 * 86400
    assert parse_duration("12h") == 43200
    assert parse_duration("90m") == 5400
    for bad in ("", "0d", "12", "1y", "-1h"):
        with pytest.raises(ValueError, match="invalid duration"):
            parse_duration(bad)
