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

- ``GET /cdn-cgi/edgekv/internal/do/websocket`` as a WebSocket handshake: a stub ``fetch``
  whose request carries ``Upgrade: websocket``. The request (binding, id, name, URL,
  headers) travels base64-encoded JSON in ``x-edgekv-internal-do``; the primary runs the
  object's ``fetch``. A 101 answer with a ``webSocket`` accepts the handshake and bridges
  the frames both ways (``PrimaryForwarder`` hands the Worker the client end of a
  ``WebSocketPair`` whose other end is wired to that connection); any other answer is the
  handshake's refusal, carrying the object's status, headers and body (marked
  ``x-edgekv-internal-answer: object``), or the object's error (``x-edgekv-internal-error``).
  A close on either side reaches the other with its code and reason; a connection lost
  without a close frame closes the client's socket with 1011.

The credential travels in ``x-edgekv-internal-credential`` and is compared in constant time.
With no unexpired lease, or with the primary unreachable, a call fails at once with
``DurableObjectError`` naming the reason; nothing is retried (a retried call could run
twice).
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import hmac
import json
import logging
import socket
import time
from typing import TYPE_CHECKING, Any, Final

import httpx

from edgekv.durable_objects import codec
from edgekv.durable_objects.errors import DurableObjectError
from edgekv.durable_objects.ids import DurableObjectId
from edgekv.errors import StorageError
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.response import Response
from edgekv.runtime.web.websocket import WebSocket, WebSocketPair, accept_and_serve
from edgekv.server.api.asgi import Receive, Scope, Send, send_bytes

if TYPE_CHECKING:
    from edgekv.runtime.worker import WorkerRuntime
    from edgekv.server.location import ClusterLocation
    from edgekv.storage.postgres import PrimaryLease

__all__ = ["INTERNAL_DO_PREFIX", "PrimaryForwarder", "internal_do_endpoint", "internal_do_websocket"]

logger = logging.getLogger("edgekv.cluster")

INTERNAL_DO_PREFIX: Final = "/cdn-cgi/edgekv/internal/do/"
CREDENTIAL_HEADER: Final = "x-edgekv-internal-credential"
PAYLOAD_HEADER: Final = "x-edgekv-internal-do"
ANSWER_HEADER: Final = "x-edgekv-internal-answer"  # "object": the refusal is the object's answer
ERROR_HEADER: Final = "x-edgekv-internal-error"  # the refusal carries the object's error
LOST_CODE: Final = 1011  # the client's close when the primary's connection dropped
# Headers of a handshake (or of its refusal) that belong to one hop, not to the object.
_HOP_HEADERS: Final = frozenset({
    "connection", "upgrade", "sec-websocket-key", "sec-websocket-accept", "sec-websocket-version",
    "sec-websocket-extensions", "content-length", "transfer-encoding", "date", "server",
    "keep-alive", ANSWER_HEADER, ERROR_HEADER,
})
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
        self._bridges: set[asyncio.Task[None]] = set()  # forwarded WebSockets in flight

    async def close(self) -> None:
        for task in list(self._bridges):
            task.cancel()
        if self._bridges:
            await asyncio.gather(*self._bridges, return_exceptions=True)
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
        if (request.headers.get("upgrade") or "").lower() == "websocket":
            return await self._websocket(binding, object_id, request)
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

    async def _websocket(self, binding: str, object_id: DurableObjectId,
                         request: Request) -> Response:
        """A WebSocket upgrade to the object, over one WebSocket to the primary."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidStatus

        lease = await self._primary()
        base = lease.url.rstrip("/")
        url = ("wss" + base[5:] if base.startswith("https") else "ws" + base[4:]) + \
            INTERNAL_DO_PREFIX + "websocket"
        headers = request.headers.items()
        payload = {"binding": binding, "id": object_id.toString(), "name": object_id.name,
                   "url": request.url, "headers": headers}
        offered = [p.strip() for p in (request.headers.get("sec-websocket-protocol") or "").split(",")
                   if p.strip()]
        try:
            # Connecting is bounded like any call's; the handshake waits for the object's
            # fetch, which may legitimately take long.
            parsed = httpx.URL(base)
            sock = await asyncio.wait_for(
                _tcp(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)),
                _CONNECT_TIMEOUT_SECONDS)
            connection = await connect(
                url, sock=sock, open_timeout=_CALL_TIMEOUT_SECONDS, max_size=None,
                close_timeout=_CONNECT_TIMEOUT_SECONDS,
                subprotocols=offered or None,  # type: ignore[arg-type]
                additional_headers={
                    CREDENTIAL_HEADER: lease.credential,
                    PAYLOAD_HEADER: base64.b64encode(json.dumps(payload).encode()).decode()})
        except InvalidStatus as exc:
            answer = exc.response
            body = bytes(answer.body or b"")
            if answer.headers.get(ERROR_HEADER):
                raise _rebuild_error(json.loads(body)["error"]) from None
            if answer.headers.get(ANSWER_HEADER) != "object":
                self._lease = None
                raise DurableObjectError(
                    f"the primary location {lease.holder!r} ({lease.url}) refused the Durable "
                    f"Object call: {answer.status_code} {body[:200].decode(errors='replace')}"
                ) from None
            kept = [(k, v) for k, v in answer.headers.raw_items() if k.lower() not in _HOP_HEADERS]
            return Response(body or None, status=answer.status_code, headers=kept)
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            self._lease = None
            raise DurableObjectError(
                f"the primary location {lease.holder!r} ({lease.url}) cannot be reached: "
                f"{type(exc).__name__}: {exc}") from exc
        client, server = WebSocketPair.new().object_values()
        task = asyncio.ensure_future(_bridge(connection, server))
        self._bridges.add(task)
        task.add_done_callback(self._bridges.discard)
        extra = {"sec-websocket-protocol": connection.subprotocol} if connection.subprotocol else None
        return Response(None, status=101, headers=extra, web_socket=client)

    async def call(self, binding: str, object_id: DurableObjectId, method: str,
                   args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        payload = {"binding": binding, "id": object_id.toString(), "name": object_id.name,
                   "method": method, "args": list(args), "kwargs": kwargs}
        answer = codec.decode(await self._post("rpc", codec.encode(payload)))
        if "error" in answer:
            raise _rebuild_error(answer["error"])
        return answer["result"]


async def _tcp(host: str, port: int) -> socket.socket:
    """A connected non-blocking TCP socket (closed again if connecting fails or is cancelled)."""
    loop = asyncio.get_running_loop()
    family, kind, proto, _, address = (await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))[0]
    sock = socket.socket(family, kind, proto)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock


def _sendable(code: int) -> int:
    """A close code that may travel in a close frame (1005/1006 are local-only)."""
    return 1000 if code in (1005, 1006) else code


async def _bridge(connection: Any, server: WebSocket) -> None:
    """Carry frames between the primary's connection and ``server`` (the far end of the
    client the Worker returned) until either side closes; the close crosses over."""
    outgoing: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    server.addEventListener("message", lambda event: outgoing.put_nowait(("send", event.data)))
    server.addEventListener("close", lambda event: outgoing.put_nowait(
        ("close", (_sendable(event.code), event.reason))))
    server.accept()

    async def write() -> None:
        while True:
            kind, data = await outgoing.get()
            if kind == "send":
                await connection.send(data)
            else:
                await connection.close(*data)
                return

    writer = asyncio.ensure_future(write())
    try:
        async for message in connection:
            if server.readyState == server.OPEN:
                server.send(message)
    except Exception as exc:  # noqa: BLE001 - a lost connection ends the bridge, as below
        logger.info("forwarded WebSocket to the primary ended: %s: %s", type(exc).__name__, exc)
    finally:
        received = connection.protocol.close_rcvd  # None: no close frame came
        if received is None:
            code, reason = LOST_CODE, "the primary location's connection was lost"
        else:
            code, reason = received.code, received.reason
        if server.readyState == server.OPEN:
            server.close(_sendable(code), reason)
        try:
            await asyncio.wait_for(writer, 1.0)
        except BaseException:  # noqa: BLE001 - the connection is gone; nothing left to send
            writer.cancel()
        try:
            await connection.close()  # bounded by close_timeout
        except Exception as exc:  # noqa: BLE001 - already closed or broken: nothing left to do,
            # and this cleanup must not fail the bridge task
            logger.debug("closing the forwarded WebSocket failed: %s: %s", type(exc).__name__, exc)


def _rebuild_error(error: list[str]) -> BaseException:
    """The object's exception, as close as the caller can have it: a built-in exception
    type keeps its type, anything else becomes ``DurableObjectError`` with its text."""
    name, message = error
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return DurableObjectError(f"{name}: {message}")


async def internal_do_websocket(runtime: WorkerRuntime | None, location: ClusterLocation,
                                scope: Scope, receive: Receive, send: Send) -> None:
    """The primary's side of a forwarded WebSocket upgrade (see the module docstring)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
    sent = headers.get(CREDENTIAL_HEADER, "")
    can_refuse = "websocket.http.response" in scope.get("extensions", {})

    async def refuse(status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
        if not can_refuse:
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.http.response.start", "status": status, "headers": extra})
        await send({"type": "websocket.http.response.body", "body": body})

    text = [(b"content-type", b"text/plain; charset=utf-8")]
    if not location.primary or not location.credential or not hmac.compare_digest(
            sent.encode(), location.credential.encode()):
        await refuse(403, b"Forbidden", text)
        return
    if runtime is None or scope["path"] != INTERNAL_DO_PREFIX + "websocket":
        await refuse(404, b"Not Found", text)
        return
    try:
        payload = json.loads(base64.b64decode(headers.get(PAYLOAD_HEADER, "")))
        stub = _stub(runtime, payload)
        response = await stub.fetch(Request(payload["url"], method="GET", headers=payload["headers"]))
        if not isinstance(response, Response):
            raise TypeError("Durable Object fetch() must return a Response")
    except Exception as exc:  # noqa: BLE001 - any error of the object goes back to the caller
        await refuse(500, json.dumps({"error": [type(exc).__name__, str(exc)]}).encode(),
                     [(b"content-type", b"application/json"), (ERROR_HEADER.encode(), b"1")])
        return
    socket = response.web_socket
    if response.status == 101 and socket is not None:
        await accept_and_serve(socket, response.headers, receive, send)
        return
    body = await response.bytes()
    await refuse(response.status, body, [
        *((k, v) for k, v in response.headers.raw() if k.decode("latin-1") not in _HOP_HEADERS),
        (ANSWER_HEADER.encode(), b"object")])


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
        except Exception as exc:  # noqa: BLE001 - any error of the object goes back to the caller
            answer = {"error": [type(exc).__name__, str(exc)]}
        await send_bytes(send, 200, json.dumps(answer).encode(), [(b"content-type", b"application/json")])
        return
    payload = codec.decode(body)
    try:
        stub = _stub(runtime, payload)
        result: dict[str, Any] = {"result": await getattr(stub, payload["method"])(
            *payload["args"], **payload["kwargs"])}
        encoded = codec.encode(result)
    except Exception as exc:  # noqa: BLE001 - any error of the object goes back to the caller
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
