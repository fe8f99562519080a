"""One socket write per response: uvicorn's HTTP/1.1 protocols with coalesced writes.

uvicorn writes a response's head when the app sends ``http.response.start`` and its body when
the app sends ``http.response.body``: two ``send`` system calls and, on a TCP_NODELAY socket,
two segments for every small response. On loopback the kernel delivers each segment to the
reader inside the writer's ``send``, so the second call costs about as much as the first, and
the client wakes up twice. For ``edgekv dev`` serving ``env.KV.get`` that was a quarter of the
server's CPU time per request (docs/performance.md).

:func:`http_protocol` returns uvicorn's protocol class (httptools when installed, else h11)
with one change: the transport it writes responses to is a :class:`CoalescingWriter`, which
keeps the writes made during one event-loop turn and hands them to the socket as one write
when the turn ends, or as soon as the response is complete when no other request is in
flight on the server (a lone client waits for exactly that write). Order is kept, and
nothing waits longer than the rest of the current turn:

- a buffer that reaches :data:`FLUSH_BYTES` is written at once, so a streamed body never piles
  up in memory and the real transport's flow control (``pause_writing``) still sees every byte;
- ``close()`` and ``write_eof()`` write what is buffered first; ``abort()`` drops it, as the
  transport does; writes after the connection closed are dropped, as the transport drops them;
- a WebSocket upgrade hands the WebSocket protocol the real transport (the writer is flushed
  and left behind), so frames are never delayed.

Reading, flow control and everything else go to the real transport untouched.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

__all__ = ["FLUSH_BYTES", "CoalescingWriter", "http_protocol"]

#: A buffer this large is written at once instead of at the end of the loop turn.
FLUSH_BYTES = 64 * 1024


class CoalescingWriter:
    """Stands in for a transport's ``write``: writes of one loop turn leave as one."""

    __slots__ = ("_buffered", "_chunks", "_loop", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._chunks: list[bytes] = []
        self._buffered = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        chunk = data if type(data) is bytes else bytes(data)  # the caller may reuse its buffer
        chunks = self._chunks
        if not chunks:
            if len(chunk) >= FLUSH_BYTES:
                self._write_now(chunk)
                return
            self._loop.call_soon(self.flush)
        chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered >= FLUSH_BYTES:
            self.flush()

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Write what is buffered now (the end-of-turn callback calls this too)."""
        chunks = self._chunks
        if not chunks:
            return
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        self._write_now(data)

    def _write_now(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def abort(self) -> None:
        self._chunks.clear()
        self._buffered = 0
        self.transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._buffered + self.transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        # is_closing, get_extra_info, pause_reading, set_protocol, ...: the real transport's
        return getattr(self.transport, name)


class _Coalescing:
    """Mixin for a uvicorn HTTP protocol class: responses are written through a
    :class:`CoalescingWriter` (module docstring)."""

    transport: Any
    loop: asyncio.AbstractEventLoop
    tasks: set[asyncio.Task[None]]  # uvicorn's: the requests in flight on the whole server

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]  # flow control on the real one
        self.transport = CoalescingWriter(transport, self.loop)

    def on_response_complete(self) -> None:
        # A lone request's response leaves now: its client waits for exactly this write, and
        # an end-of-turn flush would cost the loop another turn. While other requests are in
        # flight, the responses of this turn leave together at its end (measured in
        # docs/performance.md: at 10 connections that is the cheaper way).
        writer = self.transport
        if isinstance(writer, CoalescingWriter) and len(self.tasks) <= 1:
            writer.flush()
        super().on_response_complete()  # type: ignore[misc]

    def handle_websocket_upgrade(self, *args: Any) -> None:
        writer = self.transport
        if isinstance(writer, CoalescingWriter):  # the WebSocket protocol gets the real one
            writer.flush()
            self.transport = writer.transport
        super().handle_websocket_upgrade(*args)  # type: ignore[misc]


@functools.cache
def http_protocol() -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol class (httptools if installed, else h11) writing through a
    :class:`CoalescingWriter`; pass it as ``uvicorn.Config(http=...)``."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:  # httptools is not installed
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]
    return type(f"Coalescing{Base.__name__}", (_Coalescing, Base), {})
