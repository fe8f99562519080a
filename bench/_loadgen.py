"""Keep-alive HTTP/1.1 load generator, run as its own process by the HTTP benchmarks.

    python bench/_loadgen.py --port P --path '/get?key=bench/k{}' --keys 1000 \
        --n 20000 --concurrency 10 [--warmup 500] [--expect 200]

``C`` connections, each with exactly one request in flight (no pipelining): a connection
sends its next request only once the previous response has been read in full. ``{}`` in the
path is replaced by ``i % keys`` (``i`` counts requests across all connections). Latency is
taken per request from the write to the last byte of the response. Prints one JSON line:
``{n, concurrency, wall_s, rps, p50_ms, p90_ms, p99_ms, max_ms, mean_ms, errors, statuses}``;
``--dump FILE`` also writes the sorted latencies (int64 ns) so runs can be merged.
``--method PUT --body-size 100 --header 'Authorization: Bearer T'`` sends another method,
extra headers, and a body of that many bytes (with ``Content-Length``).

Written on ``asyncio.Protocol`` (uvloop when installed) rather than a client library so the
client spends as little CPU per request as possible: on a 2-core machine it competes with
the server being measured. Responses are parsed just enough to find their end
(``Content-Length`` or ``chunked``). Loopback hosts only.
"""

from __future__ import annotations

import os
import sys

# bench/http.py would shadow the stdlib ``http`` package for anything imported from here.
_HERE = os.path.realpath(os.path.dirname(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE]

import argparse
import asyncio
import json
import re
import time
from array import array
from typing import Any

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[ \t]*[^\r]*chunked", re.IGNORECASE)


def _percentile(sorted_ns: list[int], p: float) -> float:
    k = min(len(sorted_ns) - 1, max(0, round(p / 100.0 * len(sorted_ns) + 0.5) - 1))
    return sorted_ns[k] / 1e6


def _chunked_end(buf: bytearray, start: int) -> int:
    """Index just past a complete chunked body starting at ``start``, or -1."""
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return -1
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        pos = eol + 2
        if size == 0:  # last chunk, then optional trailers and an empty line
            end = buf.find(b"\r\n\r\n", pos - 2)
            return -1 if end < 0 else end + 4
        pos += size + 2
        if pos > len(buf):
            return -1


class _Run:
    """Shared state of one measured run."""

    def __init__(self, host: str, port: int, path: str, keys: int, total: int, *,
                 method: str = "GET", headers: tuple[str, ...] = (), body_size: int = 0) -> None:
        self.host_header = f"{host}:{port}"
        self.path = path
        self.keys = keys
        self.total = total
        self.issued = 0
        self.done = 0
        self.latencies: list[int] = []
        self.statuses: dict[int, int] = {}
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        extra = "".join(f"{h}\r\n" for h in headers)
        if body_size or method not in ("GET", "HEAD", "DELETE"):
            extra += f"Content-Length: {body_size}\r\n"
        templ = f"{method} {path} HTTP/1.1\r\nHost: {self.host_header}\r\n{extra}\r\n"
        self._body = (b"x" * body_size)
        self._fixed = None if "{}" in path else templ.encode() + self._body
        self._templ = templ

    def next_request(self) -> bytes | None:
        if self.issued >= self.total:
            return None
        i = self.issued
        self.issued += 1
        if self._fixed is not None:
            return self._fixed
        return self._templ.replace("{}", str(i % self.keys)).encode() + self._body

    def record(self, status: int, latency_ns: int) -> None:
        self.latencies.append(latency_ns)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.done += 1
        if self.done >= self.total and not self.finished.done():
            self.finished.set_result(None)


class _Conn(asyncio.Protocol):
    def __init__(self, run: _Run) -> None:
        self.run = run
        self.buf = bytearray()
        self.sent_at = 0
        self.transport: Any = None
        self.idle = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def start(self, run: _Run) -> None:
        self.run = run
        self._send_next()

    def _send_next(self) -> None:
        req = self.run.next_request()
        if req is None:
            self.idle = True
            return
        self.idle = False
        assert self.transport is not None
        self.sent_at = time.perf_counter_ns()
        self.transport.write(req)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(buf[: head_end + 2])
        body_start = head_end + 4
        m = _LENGTH.search(head)
        if m is not None:
            end = body_start + int(m.group(1))
            if len(buf) < end:
                return
        elif _CHUNKED.search(head):
            end = _chunked_end(buf, body_start)
            if end < 0:
                return
        else:  # no framing: a body-less response (204/304) is all we expect here
            end = body_start
        latency = time.perf_counter_ns() - self.sent_at
        status = int(head[9:12])
        del buf[:end]
        self.run.record(status, latency)
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.idle and not self.run.finished.done():
            self.run.finished.set_exception(
                ConnectionError(f"server closed a connection mid-run: {exc!r}")
            )


async def _measure(conns: list[_Conn], run: _Run) -> float:
    started = time.perf_counter()
    for conn in conns:
        conn.start(run)
    await run.finished
    return time.perf_counter() - started


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if args.host not in LOOPBACK:
        raise SystemExit(f"refusing non-loopback host {args.host!r}")
    loop = asyncio.get_running_loop()
    shape = {"method": args.method, "headers": tuple(args.header), "body_size": args.body_size}
    warm = _Run(args.host, args.port, args.path, args.keys, max(args.warmup, args.concurrency),
                **shape)
    conns: list[_Conn] = []
    for _ in range(args.concurrency):
        _, proto = await loop.create_connection(lambda: _Conn(warm), args.host, args.port)
        conns.append(proto)
    await _measure(conns, warm)
    run = _Run(args.host, args.port, args.path, args.keys, args.n, **shape)
    wall = await _measure(conns, run)
    for conn in conns:
        assert conn.transport is not None
        conn.transport.close()
    lat = sorted(run.latencies)
    expected = set(args.expect)
    errors = sum(count for status, count in run.statuses.items() if status not in expected)
    return {
        "n": len(lat),
        "concurrency": args.concurrency,
        "wall_s": round(wall, 3),
        "rps": round(len(lat) / wall, 1),
        "p50_ms": round(_percentile(lat, 50), 3),
        "p90_ms": round(_percentile(lat, 90), 3),
        "p99_ms": round(_percentile(lat, 99), 3),
        "max_ms": round(lat[-1] / 1e6, 3),
        "mean_ms": round(sum(lat) / len(lat) / 1e6, 3),
        "errors": errors,
        "statuses": {str(k): v for k, v in sorted(run.statuses.items())},
        "_lat": lat,
    }


def _run(args: argparse.Namespace) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main(args))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main(args))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--keys", type=int, default=1)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--concurrency", "-c", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--expect", type=int, nargs="*", default=[200])
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[],
                        help="an extra request header, 'Name: value' (repeatable)")
    parser.add_argument("--body-size", type=int, default=0,
                        help="send a body of this many bytes with every request")
    parser.add_argument("--dump", default=None,
                        help="also write the sorted latencies (ns, int64 array) to this file")
    cli_args = parser.parse_args()
    result = _run(cli_args)
    latencies = result.pop("_lat")
    if cli_args.dump:
        with open(cli_args.dump, "wb") as out:
            array("q", latencies).tofile(out)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
