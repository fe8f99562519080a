"""``ExplorerApp``: the data explorer's page and its small API, as one ASGI app.

Mounted by ``ManagementPaths`` at ``/cdn-cgi/edgekv/explorer/``:

- ``/cdn-cgi/edgekv/explorer/`` the page (``static/index.html``), and its two assets
  ``explorer.js`` and ``explorer.css``: files of the Python package, nothing built at
  install time and nothing fetched at run time. Every asset is sent with a strict
  Content-Security-Policy (scripts from this origin only, no inline script), so a stored
  value can never run as code even if it reached the DOM as markup (it does not: the page
  renders data with ``textContent`` only);
- ``/cdn-cgi/edgekv/explorer/api/...`` the explorer's own API (docs/explorer.md): key
  counts, descending key pages, value previews, bulk upload and download, Durable Objects,
  and ``session`` (what the credential may do).

The API checks credentials exactly as the v4 API does (``ApiContext.authenticator``): open
in ``edgekv dev`` (behind the ``LoopbackGuard``), a Bearer token in ``edgekv serve``. The
page keeps the token in ``sessionStorage`` and sends it as a header, never as a cookie, so
a cross-site page cannot make the browser write on the user's behalf (no ambient
credential to ride on).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from edgekv.accounts import Principal
from edgekv.durable_objects.admin import ObjectAdmin
from edgekv.errors import StorageError
from edgekv.server.api import Access, ApiContext
from edgekv.server.api.asgi import (
    ApiRequest,
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    send_bytes,
    send_json,
)
from edgekv.server.api.context import decode_segment
from edgekv.server.api.envelope import AUTH_ERROR, ApiError, failure, success
from edgekv.server.explorer import kv
from edgekv.server.explorer.counts import KeyCounts
from edgekv.server.explorer.objects import ObjectEndpoints

if TYPE_CHECKING:
    from edgekv.runtime.worker import WorkerRuntime

__all__ = ["EXPLORER_PREFIX", "ExplorerApp"]

logger = logging.getLogger("edgekv.explorer")

EXPLORER_PREFIX = "/cdn-cgi/edgekv/explorer"
_ASSETS = {
    "/": ("index.html", b"text/html; charset=utf-8"),
    "/explorer.js": ("explorer.js", b"text/javascript; charset=utf-8"),
    "/explorer.css": ("explorer.css", b"text/css; charset=utf-8"),
}
_SECURITY_HEADERS = [
    (b"content-security-policy",
     (b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
     b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-cache"),
]

_NS = r"/accounts/(?P<account>[^/]+)/namespaces/(?P<ns>[^/]+)"
_DO = r"/do/namespaces/(?P<binding>[^/]+)"
_OBJ = _DO + r"/objects/(?P<object>[^/]+)"


def _load_asset(name: str) -> bytes:
    return resources.files("edgekv.server.explorer").joinpath("static", name).read_bytes()


class ExplorerApp:
    """The explorer over the API context ``ctx`` and, in ``edgekv dev``, the Worker
    ``runtime`` (for its Durable Objects and its config)."""

    def __init__(self, ctx: ApiContext, runtime: WorkerRuntime | None = None, *,
                 root: str = EXPLORER_PREFIX, count_ttl_seconds: float = 10.0) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.root = root.rstrip("/")
        self.counts = KeyCounts(ctx.store, ttl_seconds=count_ttl_seconds)
        admin = ObjectAdmin(runtime.durable_objects) if runtime is not None else None
        self.objects = ObjectEndpoints(admin)
        self._assets: dict[str, bytes] = {}
        o = self.objects
        # (pattern, {method: handler}); handlers take (request, access, *groups)
        self._routes: list[tuple[re.Pattern[str], dict[str, Callable[..., Awaitable[Any]]]]] = [
            (re.compile(r"/session/?$"), {"GET": self._session}),
            (re.compile(_NS + r"/count/?$"), {"GET": self._count}),
            (re.compile(_NS + r"/keys/?$"), {"GET": self._keys}),
            (re.compile(_NS + r"/preview/(?P<key>.+)$"), {"GET": self._preview}),
            (re.compile(_NS + r"/bulk/?$"), {"POST": self._bulk}),
            (re.compile(r"/do/namespaces/?$"), {"GET": o.namespaces}),
            (re.compile(r"/do/alarms/?$"), {"GET": o.alarms}),
            (re.compile(_DO + r"/objects/?$"), {"GET": o.objects}),
            (re.compile(_DO + r"/id/?$"), {"GET": o.id_from_name}),
            (re.compile(_OBJ + r"/?$"), {"GET": o.describe}),
            (re.compile(_OBJ + r"/kv/?$"), {"GET": o.list_kv}),
            (re.compile(_OBJ + r"/kv/(?P<key>.+)$"), {"GET": o.get_kv, "PUT": o.put_kv,
                                                      "DELETE": o.delete_kv}),
            (re.compile(_OBJ + r"/sql/tables/?$"), {"GET": o.tables}),
            (re.compile(_OBJ + r"/sql/tables/(?P<table>[^/]+)/?$"), {"GET": o.rows}),
            (re.compile(_OBJ + r"/sql/?$"), {"POST": o.console}),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"][len(self.root):]
        if path == "":
            await send_bytes(send, 308, b"", [(b"location", (self.root + "/").encode())])
        elif path == "/api" or path.startswith("/api/"):
            await self._api(scope, receive, send)
        elif path in _ASSETS and scope["method"] in ("GET", "HEAD"):
            name, content_type = _ASSETS[path]
            body = self._assets.get(name)
            if body is None:
                body = self._assets[name] = _load_asset(name)
            await send_bytes(send, 200, body if scope["method"] == "GET" else b"",
                             [(b"content-type", content_type), *_SECURITY_HEADERS])
        else:
            await send_bytes(send, 404, b"Not Found", [(b"content-type", b"text/plain; charset=utf-8")])

    # -- the API --------------------------------------------------------------------------------

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = ApiRequest.from_scope(scope, receive, self.root + "/api")
        extra = [(b"cache-control", b"no-store")]
        try:
            for pattern, methods in self._routes:
                match = pattern.match(request.path)
                if match is None:
                    continue
                handler = methods.get("GET" if request.method == "HEAD" else request.method)
                if handler is None:
                    raise ApiError(405, 7001, "Method not allowed for this URI")
                access = await self.ctx.authenticator.access(request)
                if access is None:
                    raise AUTH_ERROR
                groups = list(match.groups())
                await send_json(send, 200, await handler(request, access, *groups), extra)
                return
            if re.match(_NS + r"/export/?$", request.path) and request.method in ("GET", "HEAD"):
                access = await self.ctx.authenticator.access(request)
                if access is None:
                    raise AUTH_ERROR
                account, ns = re.match(_NS, request.path).groups()  # type: ignore[union-attr]
                account_id = self._account(access, account)
                await kv.export_namespace(self.ctx, request, access, account_id, ns, send)
                return
            raise ApiError(404, 7000, "No route for that URI")
        except ApiError as exc:
            await send_json(send, exc.status, exc.envelope(), extra)
        except BodyTooLarge as exc:
            await send_json(send, 413, failure(10005, f"Request body exceeds the limit of {exc.limit} bytes"))
        except StorageError as exc:
            logger.error("%s %s: the store failed: %s", request.method, request.path, exc)
            await send_json(send, 500, failure(10043, "The storage backend failed; retry the request."))
        except Exception:
            logger.exception("%s %s failed", request.method, request.path)
            await send_json(send, 500, failure(10043, "Internal error; retry the request."))

    def _account(self, access: Access, raw: str) -> str:
        account_id = decode_segment(raw, "account id")
        self.ctx.check_account(access, account_id)
        return account_id

    async def _session(self, request: ApiRequest, access: Access) -> dict[str, Any]:
        """What this credential may do, and the accounts it reaches."""
        if isinstance(access, Principal):
            accounts = [access.account]
        else:  # open access (edgekv dev): every account, the local one created if new
            await self.ctx.registry.ensure_local_account()
            accounts = await self.ctx.registry.list_accounts()
        runtime = self.runtime
        return success({
            "read_only": access.read_only,
            "admin": access.admin,
            "credential": self.ctx.authenticator.sent_credential(request),
            "accounts": [{"id": a.id, "name": a.name} for a in accounts],
            "worker": None if runtime is None else (runtime.config.name or "worker"),
            "durable_objects": runtime is not None and access.admin,
        })

    async def _count(self, request: ApiRequest, access: Access, account: str, ns: str) -> Any:
        return await kv.count_keys(self.ctx, self.counts, request, access,
                                   self._account(access, account), ns)

    async def _keys(self, request: ApiRequest, access: Access, account: str, ns: str) -> Any:
        return await kv.list_keys(self.ctx, request, access, self._account(access, account), ns)

    async def _preview(self, request: ApiRequest, access: Access, account: str, ns: str,
                       key: str) -> Any:
        return await kv.preview_value(self.ctx, request, access, self._account(access, account),
                                      ns, key)

    async def _bulk(self, request: ApiRequest, access: Access, account: str, ns: str) -> Any:
        return await kv.bulk_upload(self.ctx, self.counts, request, access,
                                    self._account(access, account), ns)
