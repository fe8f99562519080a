"""Large bodies are not copied many times: a 25 MiB value write and a large bulk write, measured
with tracemalloc around the ASGI app itself (the request body is made before measuring and fed
in 64 KiB chunks, as uvicorn does)."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

from tests.server.api.conftest import Api

MIB = 1024 * 1024


async def _call(api: Api, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, int]:
    """(status, peak bytes allocated during the request)."""
    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)] or [b""]
    status = 0

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    raw = [(k.lower().encode(), v.encode()) for k, v in
           {**headers, "content-length": str(len(body)), "host": "127.0.0.1"}.items()]
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": raw}
    tracemalloc.start()
    try:
        await api.client._transport.app(scope, receive, send)  # type: ignore[attr-defined]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return status, peak


async def test_a_25_mib_value_is_held_at_most_three_times(api: Api) -> None:
    ns = await api.namespace()
    value = b"v" * (25 * MIB)
    status, peak = await _call(api, "PUT", f"{api.base}/{ns}/values/big", value, api.auth)
    assert status == 200
    print(f"25 MiB PUT peak {peak / MIB:.1f} MiB")
    assert peak < 3 * len(value), f"peak {peak / MIB:.1f} MiB for a 25 MiB value"
    record = await api.store.get(ns, "big")
    assert record is not None and record.value == value


async def test_a_bulk_body_is_parsed_without_several_copies(api: Api) -> None:
    ns = await api.namespace()
    items = [{"key": f"key{i:05d}", "value": "x" * 2000} for i in range(5000)]
    body = json.dumps(items).encode()  # about 10 MB
    del items
    status, peak = await _call(api, "PUT", f"{api.base}/{ns}/bulk", body,
                               {**api.auth, "content-type": "application/json"})
    assert status == 200
    # the body, the parsed items and the records: each about the body's size, never all at once
    print(f"bulk {len(body) / MIB:.1f} MiB peak {peak / MIB:.1f} MiB")
    assert peak < 3.5 * len(body), f"peak {peak / MIB:.1f} MiB for a {len(body) / MIB:.1f} MiB body"
