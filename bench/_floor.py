"""The floor of ``bench/http.py``: a bare ASGI app on uvicorn reading the same SQLite row.

    python bench/_floor.py --db STATE/kv.sqlite3 --namespace ID [--port 0] [--one-write]

No framework, no Worker, no edgekv import (except ``--one-write``, below): one ASGI callable that answers ``GET /get?key=K``
with the value stored under ``K`` in KV namespace ``ID`` (404 with an empty body when
missing) and ``GET /ping`` with ``ok``. It reads the same SQLite file ``edgekv dev`` uses,
with the same PRAGMAs (WAL, ``synchronous=NORMAL``, 16 MB page cache, autocommit) and the same
query, and answers with the same body and headers (``content-type``, ``content-length``,
``date``). uvicorn runs with ``edgekv dev``'s settings: httptools, uvloop, no access log, no
Server header; uvicorn's own cached Date header stands in for the one edgekv adds.

``--one-write`` runs the same app on edgekv's HTTP protocol (``edgekv.server.coalescing``:
uvicorn's, writing each response to the socket once instead of head and body apart), the one
thing ``edgekv dev`` changes below the ASGI app. Against that floor, what is left is the cost
of edgekv's own layers.

Prints ``Ready on http://127.0.0.1:PORT`` once it accepts connections. Loopback only.
"""

from __future__ import annotations

import os
import sys

# bench/http.py would shadow the stdlib ``http`` package for anything imported from here.
_HERE = os.path.realpath(os.path.dirname(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE]

import argparse
import asyncio
import socket
import sqlite3
from typing import Any
from urllib.parse import parse_qs

import uvicorn

_TEXT = [(b"content-type", b"text/plain;charset=UTF-8")]


def make_app(db: str, namespace: str) -> Any:
    conn = sqlite3.connect(db, timeout=0.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-16000")
    row = conn.execute("SELECT id FROM spaces WHERE name = ?", (namespace,)).fetchone()
    space = row[0] if row else -1

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/get":
            key = parse_qs(scope["query_string"].decode("latin-1")).get("key", [""])[0]
            found = conn.execute(
                "SELECT value, expiration, metadata FROM entries WHERE space = ? AND key = ?",
                (space, key),
            ).fetchone()
            status, body = (200, found[0]) if found is not None else (404, b"")
        elif path == "/ping":
            status, body = 200, b"ok"
        else:
            status, body = 404, b"not found"
        await send({"type": "http.response.start", "status": status,
                    "headers": [*_TEXT, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--one-write", action="store_true",
                        help="serve on edgekv's one-write-per-response HTTP protocol")
    args = parser.parse_args()
    http: Any = "httptools"
    if args.one_write:
        from edgekv.server.coalescing import http_protocol

        http = http_protocol()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    config = uvicorn.Config(make_app(args.db, args.namespace), http=http, ws="none",
                            lifespan="off", log_config=None, access_log=False,
                            server_header=False, date_header=True)
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        print(f"Ready on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
        await task

    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
