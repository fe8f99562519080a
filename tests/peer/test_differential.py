"""Differential test: the same KV operations against Cloudflare's simulator and edgekv.

Every result and every error (class and message) must be identical, except the documented
divergences in ``cases.DIVERGENCES``. The peer runs workerd's real KV binding over Miniflare's
KV service (docs/peer.md), so this checks edgekv against Cloudflare's own code, not against
our reading of its documentation.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx

from edgekv.errors import KVError, KVSyntaxError, KVTypeError
from edgekv.kv import ByteStream, KVNamespace
from edgekv.storage import open_store

from .cases import DIVERGENCES, FUTURE, build_cases


def _substitute(value: Any, prefix: str, cursor: str | None, future: int) -> Any:
    if isinstance(value, str):
        if value == "$cursor":
            return cursor
        if value == FUTURE:
            return future
        return value.replace("{P}", prefix)
    if isinstance(value, list):
        return [_substitute(v, prefix, cursor, future) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, prefix, cursor, future) for k, v in value.items()}
    return value


async def _encode(value: Any) -> Any:
    """Our result in the peer's JSON encoding (worker.mjs ``encodeValue``)."""
    if isinstance(value, memoryview):
        return {"$b64": base64.b64encode(value).decode(), "byteLength": len(value)}
    if isinstance(value, ByteStream):
        data = b"".join([chunk async for chunk in value])
        return {"$stream_b64": base64.b64encode(data).decode(), "byteLength": len(data)}
    if isinstance(value, dict):
        return {k: await _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [await _encode(v) for v in value]
    return value


async def _ours(kv: KVNamespace, op: dict[str, Any]) -> dict[str, Any]:
    name = op["op"]
    target = op["keys"] if "keys" in op else op.get("key")
    args: list[Any] = [target]
    try:
        if name in ("get", "getWithMetadata"):
            if "options" in op:
                args.append(op["options"])
            result = await getattr(kv, name)(*args)
            encoded = await _encode(result)
            if isinstance(op.get("keys"), list):
                encoded = {"$map": encoded}
        elif name == "put":
            if "value_size" in op:
                value: Any = "a" * op["value_size"]
            elif "value_b64" in op:
                value = base64.b64decode(op["value_b64"])
            else:
                value = op["value"]
            args.append(value)
            if "options" in op:
                args.append(op["options"])
            encoded = await kv.put(*args)
        elif name == "delete":
            encoded = await kv.delete(target)
        else:
            encoded = await kv.list(op["options"]) if "options" in op else await kv.list()
        return {"ok": True, "result": encoded}
    except KVTypeError as exc:
        return {"ok": False, "error": {"name": "TypeError", "message": str(exc)}}
    except KVSyntaxError as exc:
        return {"ok": False, "error": {"name": "SyntaxError", "message": str(exc)}}
    except KVError as exc:
        return {"ok": False, "error": {"name": "Error", "message": str(exc)}}


async def test_same_results_and_errors_as_cloudflare(peer_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    future = int(time.time()) + 3600
    store = open_store("memory://")
    kv = KVNamespace(store, "differential")
    mismatches: list[str] = []
    peer_cursor = our_cursor = None
    async with httpx.AsyncClient(base_url=peer_url, timeout=120) as client:
        for label, template in build_cases():
            peer_op = _substitute(template, prefix, peer_cursor, future)
            our_op = _substitute(template, prefix, our_cursor, future)
            reply = await client.post("/op", json=peer_op)
            theirs = reply.json()
            ours = await _ours(kv, our_op)
            if theirs.get("ok") and isinstance(theirs.get("result"), dict):
                peer_cursor = theirs["result"].get("cursor", peer_cursor)
            if ours.get("ok") and isinstance(ours.get("result"), dict):
                our_cursor = ours["result"].get("cursor", our_cursor)
            if theirs != ours and label not in DIVERGENCES:
                mismatches.append(f"{label}:\n  cloudflare: {str(theirs)[:300]}\n  edgekv:     {str(ours)[:300]}")
    await store.close()
    assert not mismatches, f"{len(mismatches)} differences:\n" + "\n".join(mismatches)
