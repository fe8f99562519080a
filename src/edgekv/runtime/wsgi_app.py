"""Run a WSGI application (Django, Flask, ...) inside a Worker: ``workers.wsgi``.

``await fetch(app, request, env, ctx=None)`` drives ``app`` for one request and returns a
:class:`Response`, as Cloudflare's adapter does (``wsgi.fetch(application, request,
self.env)`` in the Django example). The environ follows PEP 3333 and the SDK's choices:

- ``PATH_INFO`` is the URL-decoded path as a WSGI native string (UTF-8 bytes read as
  latin-1), ``QUERY_STRING`` stays percent-encoded, ``SERVER_NAME``/``SERVER_PORT`` come from
  the URL, repeated headers are folded with ``,``;
- ``workers.env`` holds the Worker's ``env`` (the SDK's extension, like ``scope["env"]``);
- ``wsgi.input`` holds the request body, read before the app starts (``CONTENT_LENGTH`` is
  set from it when the client sent none).

WSGI is synchronous, so the app runs in a worker thread (the event loop keeps serving other
requests, and ``workers.env`` is visible there: the context is copied). The first body chunk
is produced before the response is returned, so status and headers are known; the rest is
pulled chunk by chunk as the client reads, and the iterable's ``close()`` is called at the
end, as PEP 3333 requires.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from edgekv.runtime.context import Context
from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.response import NULL_BODY_STATUSES, Response

__all__ = ["build_environ", "fetch"]

logger = logging.getLogger("edgekv.runtime.wsgi")

_END = object()


def _native(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def build_environ(request: Request, env: Any, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ for ``request`` (see the module docstring)."""
    url = urlsplit(request.url)
    if not url.scheme:
        raise ValueError(f"Request URL is not absolute: {request.url!r}")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(request.method),
        "SCRIPT_NAME": "",
        "PATH_INFO": _native(unquote(url.path or "/")),
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port) if url.port else ("443" if url.scheme == "https" else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "workers.env": env,
    }
    for key, value in request.headers.items():
        name = key.upper().replace("-", "_")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
            continue
        name = "HTTP_" + name
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    if "CONTENT_LENGTH" not in environ and body:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


class _Run:
    """One WSGI call: ``start`` runs the app up to its first chunk (in a thread)."""

    def __init__(self, app: Callable[..., Any], environ: dict[str, Any]) -> None:
        self.app = app
        self.environ = environ
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []
        self.result: Any = None
        self.iterator: Iterator[bytes] | None = None

    def _start_response(self, status: str, headers: list[tuple[str, str]],
                        exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.status is not None and self.iterator is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called more than once")
        self.status, self.headers = status, list(headers)
        return self._write

    def _write(self, chunk: bytes) -> None:
        if self.status is None:
            raise AssertionError("write() called before start_response()")
        if chunk:
            self.written.append(bytes(chunk))

    def start(self) -> Any:
        self.result = self.app(self.environ, self._start_response)
        self.iterator = iter(self.result)
        try:
            for chunk in self.iterator:
                if chunk:
                    return bytes(chunk)
            return _END
        except BaseException:
            self.close()
            raise

    def next_chunk(self) -> Any:
        assert self.iterator is not None
        for chunk in self.iterator:
            if chunk:
                return bytes(chunk)
        return _END

    def close(self) -> None:
        close = getattr(self.result, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                logger.exception("Exception closing the WSGI response")


async def _stream(run: _Run, first: Any) -> AsyncIterator[bytes]:
    try:
        for chunk in run.written:
            yield chunk
        if first is not _END:
            yield first
        while True:
            chunk = await asyncio.to_thread(run.next_chunk)
            if chunk is _END:
                return
            yield chunk
    finally:
        await asyncio.to_thread(run.close)


async def fetch(app: Any, request: Any, env: Any, ctx: Context | None = None) -> Response:
    """Run ``app`` for ``request`` and return its response (see module docstring).

    Raises what the app raises before its first chunk, and ``RuntimeError`` when it never
    calls ``start_response``.
    """
    if not isinstance(request, Request):
        request = getattr(request, "js_object", request)
    body = await request.bytes() if request.body is not None else b""
    run = _Run(app, build_environ(request, env, body))
    first = await asyncio.to_thread(run.start)
    if run.status is None:
        await asyncio.to_thread(run.close)
        raise RuntimeError("The WSGI application did not call start_response()")
    code_text, _, reason = run.status.partition(" ")
    code = int(code_text)
    headers = Headers([(k, v) for k, v in run.headers])
    if code in NULL_BODY_STATUSES:
        await asyncio.to_thread(run.close)
        return Response.from_parts(code, headers, None, None, status_text=reason)
    if first is _END:
        await asyncio.to_thread(run.close)
        data = b"".join(run.written)
        return Response.from_parts(code, headers, data or None, None, status_text=reason)
    return Response.from_parts(code, headers, None, _stream(run, first), status_text=reason)
