"""``ManagementPaths``: edgekv's own HTTP paths in front of the Worker.

Everything edgekv serves besides the Worker lives under ``/cdn-cgi/edgekv/`` (Cloudflare
never hands ``/cdn-cgi/`` paths to a Worker, so nothing a Worker routes is shadowed):

- ``/cdn-cgi/edgekv/health``: ``{"status": "ok"}``;
- ``/cdn-cgi/edgekv/client/v4/...``: the v4 KV REST API (``edgekv.server.api``);
- ``/cdn-cgi/edgekv/explorer/``: the data explorer (``edgekv.server.explorer``), over the
  same credentials; given the Worker's ``runtime`` it shows its Durable Objects too.

- with a cluster ``location`` (``edgekv serve --store postgresql://... --location NAME``,
  docs/cluster.md): ``/cdn-cgi/edgekv/metrics`` (Prometheus text, open like ``health``),
  and behind an API token ``/cdn-cgi/edgekv/locations`` (the registry with each location's
  health), ``/cdn-cgi/edgekv/cache?namespace=&key=`` (what this location holds for one
  key) and ``/cdn-cgi/edgekv/locations/cache?namespace=&key=`` (the same, asked of every
  live location: the data explorer's shape); on the primary,
  ``/cdn-cgi/edgekv/internal/do/{fetch,rpc}`` runs Durable Object calls forwarded by the
  other locations, and ``/cdn-cgi/edgekv/internal/do/websocket`` their WebSocket upgrades
  (``edgekv.server.do_forwarding``, internal credential required).

``edgekv serve`` without a Worker also answers the API at ``/client/v4``, production's
shape (``api_at_root=True``). In ``edgekv dev`` a ``LoopbackGuard`` protects the
management paths (they are open there); the Worker's routes are passed on untouched.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from edgekv.accounts import AccountRegistry
from edgekv.client.local import register_config_namespaces
from edgekv.server.api import DEFAULT_MAX_BODY_BYTES, ApiContext, Authenticator, KVApi
from edgekv.server.api.asgi import Receive, Scope, Send, send_bytes
from edgekv.server.dateheader import DateHeader
from edgekv.server.explorer import EXPLORER_PREFIX, ExplorerApp
from edgekv.server.guard import LoopbackGuard
from edgekv.storage import Store

if TYPE_CHECKING:
    from edgekv.runtime.worker import WorkerRuntime
    from edgekv.server.location import ClusterLocation

__all__ = ["API_PREFIX", "EXPLORER_PREFIX", "MANAGEMENT_PREFIX", "ManagementPaths", "api_context",
           "not_found_app", "register_config_namespaces"]

MANAGEMENT_PREFIX = "/cdn-cgi/edgekv/"
API_PREFIX = "/cdn-cgi/edgekv/client/v4"
_CLUSTER_PATHS = ("/cdn-cgi/edgekv/metrics", "/cdn-cgi/edgekv/locations", "/cdn-cgi/edgekv/cache")
_HEALTH = json.dumps({"status": "ok"}).encode()


async def not_found_app(scope: Scope, receive: Receive, send: Send) -> None:
    """What answers when there is no Worker: 404 for every path."""
    if scope["type"] == "http":
        await send_bytes(send, 404, b"Not Found", [(b"content-type", b"text/plain; charset=utf-8")])


class ManagementPaths:
    """Route ``/cdn-cgi/edgekv/`` (and optionally ``/client/v4``) to edgekv; the rest to
    ``app`` (the Worker)."""

    def __init__(self, app: object, ctx: ApiContext, *, guard: LoopbackGuard | None = None,
                 api_at_root: bool = False, runtime: WorkerRuntime | None = None,
                 location: ClusterLocation | None = None) -> None:
        self.app = app
        self.location = location
        self.runtime = runtime
        self.ctx = ctx
        self.guard = guard
        self.api = KVApi(ctx, API_PREFIX)
        self.explorer = ExplorerApp(ctx, runtime)
        self.root_api = KVApi(ctx, "/client/v4") if api_at_root else None
        # The Worker's responses carry their own Date; edgekv's answers get one here.
        self._own = DateHeader(self._route_own)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "websocket" and self.location is not None
                and scope["path"].startswith("/cdn-cgi/edgekv/internal/do/")):
            # a WebSocket upgrade forwarded by another location (do_forwarding.py)
            from edgekv.server.do_forwarding import internal_do_websocket

            await internal_do_websocket(self.runtime, self.location, scope, receive, send)
            return
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(MANAGEMENT_PREFIX) or (
                self.root_api is not None
                and (path == "/client/v4" or path.startswith("/client/v4/"))
            ):
                await self._own(scope, receive, send)
                return
        await self.app(scope, receive, send)  # type: ignore[operator]

    async def _route_own(self, scope: Scope, receive: Receive, send: Send) -> None:
        """edgekv's own paths (dated by ``_own``; the server adds no Date of its own)."""
        path: str = scope["path"]
        if path.startswith(MANAGEMENT_PREFIX):
            await self._management(scope, receive, send, path)
        elif self.root_api is not None:
            await self.root_api(scope, receive, send)

    async def _management(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if self.guard is not None:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope.get("headers", ())}
            reason = self.guard.refusal(headers)
            if reason is not None:
                await send_bytes(send, 403, f"edgekv: refused: {reason}.\n".encode(),
                                 [(b"content-type", b"text/plain; charset=utf-8")])
                return
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            await self.api(scope, receive, send)
        elif path == EXPLORER_PREFIX or path.startswith(EXPLORER_PREFIX + "/"):
            await self.explorer(scope, receive, send)
        elif path.rstrip("/") == "/cdn-cgi/edgekv/health":
            await send_bytes(send, 200, _HEALTH, [(b"content-type", b"application/json")])
        elif self.location is not None and path.startswith("/cdn-cgi/edgekv/internal/do/"):
            from edgekv.server.do_forwarding import internal_do_endpoint

            await internal_do_endpoint(self.runtime, self.location, scope, receive, send)
        elif self.location is not None and path.startswith(_CLUSTER_PATHS):
            from edgekv.server.cluster_api import cluster_endpoint

            await cluster_endpoint(self.ctx, self.location, scope, receive, send)
        else:
            await send_bytes(send, 404, b"Not Found", [(b"content-type", b"text/plain; charset=utf-8")])


def api_context(store: Store, *, open_without_credential: bool,
                max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> ApiContext:
    """The API's context over ``store``: ``edgekv dev`` is open without a credential,
    ``edgekv serve`` never is."""
    registry = AccountRegistry(store)
    return ApiContext(store=store, registry=registry, max_body_bytes=max_body_bytes,
                      authenticator=Authenticator(registry,
                                                  open_without_credential=open_without_credential))
