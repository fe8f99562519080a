"""``edgekv account create | list`` and ``edgekv token create | list | revoke``.

Accounts and tokens live in the state folder beside the KV data (``--persist-to``, else
``.edgekv`` next to the config or in the current folder), so these commands, ``edgekv
serve`` and ``edgekv dev`` started in one folder share them, also while a server runs.
Secrets are printed once and only their SHA-256 digests are stored.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from edgekv.accounts import AccountRegistry, parse_duration
from edgekv.cli.output import fail, info
from edgekv.cli.project import Project, project_options
from edgekv.cli.run import run
from edgekv.errors import AccountNotFound, StorageError, TokenNotFound
from edgekv.storage import open_store

__all__ = ["account", "token"]

T = TypeVar("T")


def _run(project: Project, work: Callable[[AccountRegistry], Awaitable[T]]) -> T:
    async def main() -> T:
        store = open_store(project.kv_url)
        try:
            return await work(AccountRegistry(store))
        finally:
            await store.close()

    return run(main(), errors={
        (AccountNotFound, TokenNotFound): lambda exc: str(exc)[0].upper() + str(exc)[1:] + ".",
        StorageError: lambda exc: f"Could not use the state in {project.state.root}: {exc}",
    })


@click.group()
def account() -> None:
    """Manage the accounts of a self-hosted KV API (edgekv serve)."""


@account.command("create")
@click.option("--name", default=None, help="A display name for the account.")
@click.option("--email", default=None,
              help="Also create a global API key for X-Auth-Email/X-Auth-Key (printed once).")
@project_options
def account_create(name: str | None, email: str | None, project: Project) -> None:
    """Create an account (32-hex id) owning its own KV namespaces."""
    async def work(registry: AccountRegistry) -> Any:
        try:
            return await registry.create_account(name, email)
        except ValueError as exc:
            fail(str(exc)[0].upper() + str(exc)[1:] + ".")

    created = _run(project, work)
    info(f'Created account {created.account.id} ("{created.account.name}").')
    if created.api_key is not None:
        info(f"Global API key for {created.account.email} (shown once, store it now):")
        info(f"    {created.api_key}")
    info(f"Create an API token for it with: edgekv token create --account {created.account.id}")


@account.command("list")
@project_options
def account_list(project: Project) -> None:
    """List the accounts as JSON."""
    accounts = _run(project, lambda registry: registry.list_accounts())
    rows = [{"id": a.id, "name": a.name, "email": a.email, "created_on": a.created_on}
            for a in accounts]
    info(json.dumps(rows, indent=2))


@click.group()
def token() -> None:
    """Manage API tokens (Authorization: Bearer) of the KV API."""


@token.command("create")
@click.option("--account", "account_id", required=True, help="The account the token acts for.")
@click.option("--name", default=None, help="A name to recognise the token by.")
@click.option("--read-only", is_flag=True, help="Reads only: any write is refused.")
@click.option("--namespace", "namespaces", multiple=True, metavar="NSID",
              help="Limit the token to this namespace id (repeatable; default: every namespace).")
@click.option("--admin", is_flag=True,
              help="Also reach what belongs to no account (Durable Objects in the explorer).")
@click.option("--expires-in", default=None, metavar="DURATION",
              help="Expire after this long: 90m, 12h, 30d, 2w (default: never).")
@project_options
def token_create(account_id: str, name: str | None, read_only: bool, namespaces: tuple[str, ...],
                 admin: bool, expires_in: str | None, project: Project) -> None:
    """Create an API token; its value is printed once."""
    seconds = None
    if expires_in is not None:
        try:
            seconds = parse_duration(expires_in)
        except ValueError as exc:
            fail(f"--expires-in: {exc}.")
    created = _run(project, lambda registry: registry.create_token(
        account_id, name=name, read_only=read_only, namespaces=namespaces, admin=admin,
        expires_in_seconds=seconds))
    scope = "read-only" if read_only else "read-write"
    where = f"namespaces {', '.join(namespaces)}" if namespaces else "every namespace"
    info(f"Created {scope} token {created.token.id} for account {account_id} ({where}"
         f"{', admin' if admin else ''}).")
    info("Token (shown once, store it now):")
    info(f"    {created.secret}")
    info("Use it with wrangler or the Cloudflare SDK:")
    info(f"    export CLOUDFLARE_API_TOKEN={created.secret}")
    info(f"    export CLOUDFLARE_ACCOUNT_ID={account_id}")


@token.command("list")
@click.option("--account", "account_id", default=None, help="Only this account's tokens.")
@project_options
def token_list(account_id: str | None, project: Project) -> None:
    """List tokens as JSON (never their values)."""
    async def work(registry: AccountRegistry) -> list[dict[str, Any]]:
        now = registry.store.clock.now()
        return [{"id": t.id, "account_id": t.account_id, "name": t.name, "status": t.status(now),
                 "read_only": t.read_only, "namespaces": list(t.namespaces), "admin": t.admin,
                 "created_on": t.created_on, "expires_on": t.expires_on}
                for t in await registry.list_tokens(account_id)]

    info(json.dumps(_run(project, work), indent=2))


@token.command("revoke")
@click.argument("token_id")
@project_options
def token_revoke(token_id: str, project: Project) -> None:
    """Revoke a token at once (also on running servers)."""
    _run(project, lambda registry: registry.revoke_token(token_id))
    info(f"Revoked token {token_id}.")
