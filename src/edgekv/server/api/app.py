"""``KVApi``: Cloudflare's v4 Workers KV REST API as an ASGI app.

``KVApi(ctx, root="/client/v4")`` answers requests whose path starts with ``root``; the
rest of the path is matched against the routes below on the *raw* path, so a key name's
``%2F`` never splits a segment. Every request is authenticated first (``ApiContext.
authenticator``); a route under ``/accounts/{id}`` then checks that the credential covers
that account before looking at anything else. Errors are Cloudflare envelopes
(``envelope.py``); an unexpected exception is logged with its traceback and answered with a
plain 500 envelope.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from edgekv.errors import StorageError
from edgekv.server.api import bulk, identity, namespaces, values
from edgekv.server.api.asgi import (
    ApiRequest,
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    send_bytes,
    send_json,
)
from edgekv.server.api.context import ApiContext, decode_segment
from edgekv.server.api.envelope import AUTH_ERROR, ApiError, failure
from edgekv.server.api.openapi import openapi_document

__all__ = ["KVApi"]

logger = logging.getLogger("edgekv.api")

Handler = Callable[..., Awaitable[Any]]

_NS = r"/accounts/(?P<account>[^/]+)/storage/kv/namespaces"
_ONE = _NS + r"/(?P<namespace>[^/]+)"

# (pattern, {method: handler}, scoped to an account?)
_ROUTES: list[tuple[re.Pattern[str], dict[str, Handler], bool]] = [
    (re.compile(_NS + r"/?$"), {"GET": namespaces.list_namespaces,
                                "POST": namespaces.create_namespace}, True),
    (re.compile(_ONE + r"/?$"), {"GET": namespaces.get_namespace,
                                 "PUT": namespaces.rename_namespace,
                                 "DELETE": namespaces.delete_namespace}, True),
    (re.compile(_ONE + r"/keys/?$"), {"GET": values.list_keys}, True),
    (re.compile(_ONE + r"/values/(?P<key>.+)$"), {"GET": values.get_value,
                                                  "PUT": values.put_value,
                                                  "DELETE": values.delete_value}, True),
    (re.compile(_ONE + r"/metadata/(?P<key>.+)$"), {"GET": values.get_metadata}, True),
    (re.compile(_ONE + r"/bulk/?$"), {"PUT": bulk.bulk_put, "DELETE": bulk.bulk_delete}, True),
    (re.compile(_ONE + r"/bulk/delete/?$"), {"POST": bulk.bulk_delete}, True),
    (re.compile(_ONE + r"/bulk/get/?$"), {"POST": bulk.bulk_get}, True),
    (re.compile(r"/accounts/?$"), {"GET": identity.list_accounts}, False),
    (re.compile(r"/accounts/(?P<account>[^/]+)/?$"), {"GET": identity.get_account}, True),
    (re.compile(r"/memberships/?$"), {"GET": identity.list_memberships}, False),
    (re.compile(r"/user/?$"), {"GET": identity.user}, False),
]


class KVApi:
    """The API over ``ctx``, mounted at ``root`` (no trailing slash)."""

    def __init__(self, ctx: ApiContext, root: str = "/client/v4") -> None:
        self.ctx = ctx
        self.root = root.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = ApiRequest.from_scope(scope, receive, self.root)
        try:
            await self._dispatch(request, send)
        except ApiError as exc:
            await send_json(send, exc.status, exc.envelope())
        except BodyTooLarge as exc:
            await send_json(send, 413, failure(10005, f"Request body exceeds the limit of {exc.limit} bytes"))
        except StorageError as exc:
            logger.error("%s %s: the store failed: %s", request.method, request.path, exc)
            await send_json(send, 500, failure(10043, "The storage backend failed; retry the request."))
        except Exception:
            logger.exception("%s %s failed", request.method, request.path)
            await send_json(send, 500, failure(10043, "Internal error; retry the request."))

    async def _dispatch(self, request: ApiRequest, send: Send) -> None:
        path = request.path
        if path in ("/openapi.json", "/openapi.json/"):
            if request.method not in ("GET", "HEAD"):
                raise ApiError(405, 7001, "Method not allowed for this URI")
            await send_json(send, 200, openapi_document(self.root))
            return
        if re.fullmatch(r"/user/tokens/verify/?", path):
            if request.method != "GET":
                raise ApiError(405, 7001, "Method not allowed for this URI")
            await send_json(send, 200, await identity.verify_token(self.ctx, request))
            return
        for pattern, methods, scoped in _ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            method = "GET" if request.method == "HEAD" else request.method
            handler = methods.get(method)
            if handler is None:
                raise ApiError(405, 7001, "Method not allowed for this URI")
            access = await self.ctx.authenticator.access(request)
            if access is None:
                if handler is identity.user:
                    # wrangler asks /user while diagnosing a 10000 error and accepts 9109
                    # there, so the user sees the original error rather than "/user failed"
                    raise ApiError(403, 9109, "Unauthorized to access requested resource")
                raise AUTH_ERROR
            params = match.groupdict()
            args: list[Any] = []
            if scoped:
                account_id = decode_segment(params["account"], "account id")
                self.ctx.check_account(access, account_id)
                args.append(account_id)
                if params.get("namespace") is not None:
                    args.append(params["namespace"])
                if params.get("key") is not None:
                    args.append(params["key"])
            result = await handler(self.ctx, request, access, *args)
            if handler is values.get_value:
                value, expiration = result
                headers = [(b"content-type", b"application/octet-stream")]
                if expiration is not None:
                    headers.append((b"expiration", str(expiration).encode()))
                await send_bytes(send, 200, value if request.method == "GET" else b"", headers)
            else:
                await send_json(send, 200, result)
            return
        raise ApiError(404, 7000, "No route for that URI")
