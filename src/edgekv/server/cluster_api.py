"""The cluster's management endpoints under ``/cdn-cgi/edgekv/`` (docs/cluster.md).

- ``GET metrics``: this location's Prometheus text (open, like ``health``: it names no key);
- ``GET locations``: the registry, each location's health, which one is primary (API token);
- ``GET cache?namespace=ID&key=K``: what this location holds for one key (API token);
- ``GET locations/cache?namespace=ID&key=K``: the same asked of every live location, with
  the caller's credential (the data explorer's Locations view).

Answers use the v4 envelope (``{"success", "errors", "messages", "result"}``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httpx

from edgekv.errors import StorageError
from edgekv.server.api import ApiContext
from edgekv.server.api.asgi import ApiRequest, Receive, Scope, Send, send_bytes, send_json
from edgekv.server.api.envelope import AUTH_ERROR, ApiError, failure, success

if TYPE_CHECKING:
    from edgekv.server.location import ClusterLocation

__all__ = ["cluster_endpoint"]

logger = logging.getLogger("edgekv.cluster")

_ROOT = "/cdn-cgi/edgekv"
_NO_STORE = [(b"cache-control", b"no-store")]
# Headers that carry a credential, passed on when asking the other locations.
_CREDENTIAL_HEADERS = ("authorization", "x-auth-key", "x-auth-email")
_PEER_TIMEOUT_SECONDS = 2.0


async def cluster_endpoint(ctx: ApiContext, location: ClusterLocation, scope: Scope,
                           receive: Receive, send: Send) -> None:
    """Answer one request below ``/cdn-cgi/edgekv/`` that names a cluster path."""
    request = ApiRequest.from_scope(scope, receive, _ROOT)
    path = request.path.rstrip("/")
    try:
        if request.method not in ("GET", "HEAD"):
            raise ApiError(405, 7001, "Method not allowed for this URI")
        if path == "/metrics":
            body = location.metrics_text().encode()
            await send_bytes(send, 200, body, [(b"content-type", b"text/plain; version=0.0.4"),
                                               *_NO_STORE])
            return
        if path not in ("/locations", "/cache", "/locations/cache"):
            raise ApiError(404, 7000, "No route for that URI")
        if await ctx.authenticator.access(request) is None:
            raise AUTH_ERROR
        if path == "/locations":
            result: Any = await location.locations()
        elif path == "/cache":
            space, key = _key_query(request)
            result = location.describe(space, key)
        else:
            space, key = _key_query(request)
            result = await _ask_every_location(location, request, space, key)
        await send_json(send, 200, success(result), _NO_STORE)
    except ApiError as exc:
        await send_json(send, exc.status, exc.envelope(), _NO_STORE)
    except StorageError as exc:
        logger.error("%s %s: the store failed: %s", request.method, request.path, exc)
        await send_json(send, 503, failure(10043, "The central store is unavailable; retry the request."),
                        _NO_STORE)


def _key_query(request: ApiRequest) -> tuple[str, str]:
    space = request.query.get("namespace", "")
    key = request.query.get("key")
    if not space or key is None:
        raise ApiError(400, 10001, "namespace and key query parameters are required")
    return space, key


async def _ask_every_location(location: ClusterLocation, request: ApiRequest, space: str,
                              key: str) -> list[dict[str, Any]]:
    """This location's answer and every other live location's, in registry order; a
    location that does not answer in time is reported with ``state: "unreachable"``."""
    headers = {k: v for k, v in request.headers.items() if k in _CREDENTIAL_HEADERS}
    listed = await location.locations()

    async def ask(row: dict[str, Any], client: httpx.AsyncClient) -> dict[str, Any]:
        if row["self"]:
            return location.describe(space, key)
        if row["health"] != "up":
            return {"location": row["name"], "state": "down"}
        try:
            reply = await client.get(row["url"].rstrip("/") + _ROOT + "/cache",
                                     params={"namespace": space, "key": key}, headers=headers)
            answer = reply.json()
            if reply.status_code == 200 and isinstance(answer.get("result"), dict):
                return answer["result"]  # type: ignore[no-any-return]
            return {"location": row["name"], "state": f"error {reply.status_code}"}
        except (httpx.HTTPError, ValueError):
            return {"location": row["name"], "state": "unreachable"}

    async with httpx.AsyncClient(timeout=_PEER_TIMEOUT_SECONDS) as client:
        return list(await asyncio.gather(*(ask(row, client) for row in listed)))
