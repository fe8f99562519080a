"""Durable Object stub calls forwarded from a location to the primary (docs/cluster.md).

Objects run on the primary location only. On every other location the Durable Object
runtime's ``remote`` is a ``PrimaryForwarder``: a stub's ``fetch`` or RPC call becomes one
HTTP request to the primary's internal endpoint, authenticated by the internal credential
of the primary lease:

- ``POST /cdn-cgi/edgekv/internal/do/fetch``: the request serialized (method, URL, headers,
  body) as JSON; the answer is the object's Response serialized the same way;
- ``POST /cdn-cgi/edgekv/internal/do/rpc``: binding, id, method and arguments encoded with
  the Durable Object codec (structured-clone rules); the answer is the result, or the
  error the object raised (type name and message), encoded the same way.

The credential travels in ``x-edgekv-internal-credential`` and is compared in constant time.
With no unexpired lease, or with the primary unreachable, a call fails at once with
``DurableObjectError`` naming the reason; nothing is retried (a retried call could run
twice). WebSocket upgrades are not forwarded yet.
"""

from __future__ import annotations

import base64
import builtins
import hmac
import json
import logging
import time
from typing import TYPE_CHECKING, Any, Final

import httpx

from edgekv.durable_objects import codec
from edgekv.durable_objects.errors import DurableObjectError
from edgekv.durable_objects.ids import DurableObjectId
from edgekv.errors import StorageError
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.response import Response
from edgekv.server.api.asgi import Receive, Scope, Send, send_bytes

if TYPE_CHECKING:
    from edgekv.runtime.worker import WorkerRuntime
    from edgekv.server.location import ClusterLocation
    from edgekv.storage.postgres import PrimaryLease

__all__ = ["INTERNAL_DO_PREFIX", "PrimaryForwarder", "internal_do_endpoint"]

logger = logging.getLogger("edgekv.cluster")

INTERNAL_DO_PREFIX: Final = "/cdn-cgi/edgekv/internal/do/"
CREDENTIAL_HEADER: Final = "x-edgekv-internal-credential"
_LEASE_CACHE_SECONDS: Final = 2.0  # how long a looked-up lease is reused
_CONNECT_TIMEOUT_SECONDS: Final = 2.0  # a primary that does not accept quickly is down
_CALL_TIMEOUT_SECONDS: Final = 300.0  # an object call may legitimately take long
_MAX_INTERNAL_BODY: Final = 128 * 1024 * 1024


class PrimaryForwarder:
    """``RemoteObjects`` over HTTP to the current primary (from the lease)."""

    def __init__(self, location: ClusterLocation) -> None:
        self.location = location
        self._lease: PrimaryLease | None = None
        self._lease_read_at = float("-inf")
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(_CALL_TIMEOUT_SECONDS,
                                                               connect=_CONNECT_TIMEOUT_SECONDS))

    async def close(self) -> None:
        await self._client.aclose()

    async def _primary(self) -> PrimaryLease:
        now = time.monotonic()
        if self._lease is None or now - self._lease_read_at > _LEASE_CACHE_SECONDS:
            try:
                self._lease = await self.location.registry.primary()
            except StorageError as exc:
                raise DurableObjectError(
                    f"Durable Objects run on the primary location, and the store that names it "
                    f"cannot be reached: {exc}") from exc
            self._lease_read_at = now
        if self._lease is None:
            raise DurableObjectError(
                "Durable Objects run on the primary location, and no primary is up "
                "(no location holds the primary lease; start one with --primary)")
        return self._lease

    async def _post(self, kind: str, body: bytes) -> bytes:
        lease = await self._primary()
        url = lease.url.rstrip("/") + INTERNAL_DO_PREFIX + kind
        try:
            reply = await self._client.post(url, content=body,
                                            headers={CREDENTIAL_HEADER: lease.credential})
        except httpx.HTTPError as exc:
            self._lease = None  # look again next time: the primary may have changed
            raise DurableObjectError(
                f"the primary location {lease.holder!r} ({lease.url}) cannot be reached: "
                f"{type(exc).__name__}: {exc}") from exc
        if reply.status_code != 200:
            self._lease = None
            raise DurableObjectError(
                f"the primary location {lease.holder!r} ({lease.url}) refused the Durable "
                f"Object call: {reply.status_code} {reply.text[:200]}")
        return reply.content

    async def fetch(self, binding: str, object_id: DurableObjectId, request: Any) -> Any:
        if not isinstance(request, Request):
            request = Request(request)
        body = await request.bytes() if request.method not in ("GET", "HEAD") else b""
        payload = {
            "binding": binding, "id": object_id.toString(), "name": object_id.name,
            "method": str(request.method), "url": request.url,
            "headers": request.headers.items(), "body": base64.b64encode(body).decode(),
        }
        answer = json.loads(await self._post("fetch", json.dumps(payload).encode()))
        if "error" in answer:
            raise _rebuild_error(answer["error"])
        return Response(base64.b64decode(answer["body"]), status=answer["status"],
                        headers=answer["headers"])

    async def call(self, binding: str, object_id: DurableObjectId, method: str,
                   args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        payload = {"binding": binding, "id": object_id.toString(), "name": object_id.name,
                   "method": method, "args": list(args), "kwargs": kwargs}
        answer = codec.decode(await self._post("rpc", codec.encode(payload)))
        if "error" in answer:
            raise _rebuild_error(answer["error"])
        return answer["result"]


def _rebuild_error(error: list[str]) -> BaseException:
    """The object's exception, as close as the caller can have it: a built-in exception
    type keeps its type, anything else becomes ``DurableObjectError`` with its text."""
    name, message = error
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return DurableObjectError(f"{name}: {message}")


async def internal_do_endpoint(runtime: WorkerRuntime | None, location: ClusterLocation,
                               scope: Scope, receive: Receive, send: Send) -> None:
    """The primary's side: run a forwarded stub call on the local object."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
    sent = headers.get(CREDENTIAL_HEADER, "")
    if not location.primary or not location.credential or not hmac.compare_digest(
            sent.encode(), location.credential.encode()):
        await send_bytes(send, 403, b"Forbidden", [(b"content-type", b"text/plain; charset=utf-8")])
        return
    kind = scope["path"][len(INTERNAL_DO_PREFIX):]
    if runtime is None or scope["method"] != "POST" or kind not in ("fetch", "rpc"):
        await send_bytes(send, 404, b"Not Found", [(b"content-type", b"text/plain; charset=utf-8")])
        return
    body = await _read(receive)
    if kind == "fetch":
        payload = json.loads(body)
        try:
            stub = _stub(runtime, payload)
            request = Request(payload["url"], method=payload["method"], headers=payload["headers"],
                              body=base64.b64decode(payload["body"]) or None)
            response = await stub.fetch(request)
            answer: dict[str, Any] = {
                "status": response.status, "headers": response.headers.items(),
                "body": base64.b64encode(await response.bytes()).decode(),
            }
        except Exception as exc:  # the object's error goes back to the caller
            answer = {"error": [type(exc).__name__, str(exc)]}
        await send_bytes(send, 200, json.dumps(answer).encode(), [(b"content-type", b"application/json")])
        return
    payload = codec.decode(body)
    try:
        stub = _stub(runtime, payload)
        result: dict[str, Any] = {"result": await getattr(stub, payload["method"])(
            *payload["args"], **payload["kwargs"])}
        encoded = codec.encode(result)
    except Exception as exc:
        encoded = codec.encode({"error": [type(exc).__name__, str(exc)]})
    await send_bytes(send, 200, encoded, [(b"content-type", b"application/octet-stream")])


def _stub(runtime: WorkerRuntime, payload: dict[str, Any]) -> Any:
    namespace = runtime.durable_objects.get_namespace(payload["binding"])
    object_id = namespace.idFromName(payload["name"]) if payload.get("name") else \
        namespace.idFromString(payload["id"])
    return namespace.get(object_id)


async def _read(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_INTERNAL_BODY:
            raise DurableObjectError("a forwarded Durable Object call is too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)
