"""Who-am-I endpoints real clients call: ``/user``, ``/user/tokens/verify``, ``/accounts``,
``/memberships``.

wrangler asks ``/memberships`` for the account when ``CLOUDFLARE_ACCOUNT_ID`` is unset, and
after any 10000 error it diagnoses the credential through ``/user/tokens/verify`` and
``/user``; both must answer with the envelope.
"""

from __future__ import annotations

import time
from typing import Any

from edgekv.accounts import Account, Principal
from edgekv.server.api.access import Access, Authenticator
from edgekv.server.api.asgi import ApiRequest
from edgekv.server.api.context import ApiContext
from edgekv.server.api.envelope import ApiError, success

__all__ = ["get_account", "list_accounts", "list_memberships", "user", "verify_token"]


def iso(seconds: float) -> str:
    """Epoch seconds as Cloudflare writes times: ``2026-12-03T09:00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def account_json(account: Account) -> dict[str, Any]:
    return {"id": account.id, "name": account.name, "type": "standard",
            "settings": {"enforce_twofactor": False}, "created_on": iso(account.created_on)}


async def _accounts(ctx: ApiContext, access: Access) -> list[Account]:
    if isinstance(access, Principal):
        return [access.account]
    await ctx.registry.ensure_local_account()
    return await ctx.registry.list_accounts()


def _page(request: ApiRequest, items: list[dict[str, Any]]) -> dict[str, Any]:
    def number(name: str, default: int, high: int) -> int:
        text = request.query.get(name) or ""
        return min(max(int(text), 1), high) if text.isdigit() else default

    page, per_page = number("page", 1, 1_000_000_000), number("per_page", 20, 1000)
    shown = items[(page - 1) * per_page: page * per_page]
    return success(shown, {"page": page, "per_page": per_page, "count": len(shown),
                           "total_count": len(items),
                           "total_pages": max(1, -(-len(items) // per_page))})


async def list_accounts(ctx: ApiContext, request: ApiRequest, access: Access) -> dict[str, Any]:
    return _page(request, [account_json(a) for a in await _accounts(ctx, access)])


async def get_account(ctx: ApiContext, request: ApiRequest, access: Access,
                      account_id: str) -> dict[str, Any]:
    ctx.check_account(access, account_id)
    account = await ctx.registry.get_account(account_id)
    if account is None:
        raise ApiError(404, 7003, f"Could not route to /accounts/{account_id}, perhaps your "
                       "object identifier is invalid?")
    return success(account_json(account))


async def list_memberships(ctx: ApiContext, request: ApiRequest, access: Access) -> dict[str, Any]:
    items = [{
        "id": account.id,
        "status": "accepted",
        "account": {"id": account.id, "name": account.name},
        "roles": ["Administrator" if not access.read_only else "Read only"],
    } for account in await _accounts(ctx, access)]
    return _page(request, items)


async def user(ctx: ApiContext, request: ApiRequest, access: Access) -> dict[str, Any]:
    if isinstance(access, Principal):
        account = access.account
        return success({"id": account.id, "email": account.email or "", "username": account.name,
                        "first_name": None, "last_name": None, "suspended": False})
    return success({"id": "local", "email": "", "username": "edgekv dev", "first_name": None,
                    "last_name": None, "suspended": False})


async def verify_token(ctx: ApiContext, request: ApiRequest) -> dict[str, Any]:
    """The token of the ``Authorization`` header, checked; 401/1000 when not valid."""
    secret = Authenticator.bearer(request)
    token = await ctx.registry.token_for_secret(secret) if secret else None
    if token is None or token.status(ctx.store.clock.now()) != "active":
        raise ApiError(401, 1000, "Invalid API Token")
    result: dict[str, Any] = {"id": token.id, "status": "active"}
    if token.expires_on is not None:
        result["expires_on"] = iso(token.expires_on)
    return success(result, messages=[{"code": 10000, "message": "This API Token is valid and active",
                                      "type": None}])
