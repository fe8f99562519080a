"""Outbound ``fetch``: ``await fetch(resource, **options)`` through ``httpx.AsyncClient``.

Mirrors ``workers.fetch``: ``resource`` is a URL string or a :class:`Request`; options are
``method`` (str or ``HTTPMethod``), ``headers``, ``body``, ``redirect`` (``"follow"``,
``"manual"`` or ``"error"``), and ``cf``/``fetcher`` (accepted, ignored on edgekv). The result
is a :class:`Response` whose body is already buffered, with ``url`` and ``redirected`` set.

A network failure raises ``OSError`` (Pyodide's ``pyfetch`` does the same); ``redirect="error"``
meeting a redirect raises ``TypeError`` as JavaScript's ``fetch`` rejects.

The connection pool belongs to the ``WorkerRuntime`` serving the current request (its
:class:`~edgekv.runtime.web.resources.WorkerResources`, closed with it). Called outside any runtime
(a unit test, a script), ``fetch`` opens a client for the one call and closes it after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.resources import current_resources
from edgekv.runtime.web.response import Response

if TYPE_CHECKING:
    import httpx

__all__ = ["fetch"]


def _passable_headers(reply: httpx.Response) -> list[tuple[bytes, bytes]]:
    """The reply's headers as they describe the body we hand over: lowercase names, no
    ``transfer-encoding`` (the body is buffered), and no ``content-encoding`` (nor the
    compressed ``content-length``) when httpx already decoded the body, so returning
    ``await fetch(url)`` from a Worker sends a correct reply."""
    decodable: frozenset[str]
    try:
        from httpx._decoders import SUPPORTED_DECODERS

        decodable = frozenset(SUPPORTED_DECODERS)
    except ImportError:  # a private name of httpx: fall back to what it always decodes
        decodable = frozenset({"identity", "gzip", "deflate"})

    encodings = [
        e.strip().lower()
        for e in reply.headers.get("content-encoding", "").split(",") if e.strip()
    ]
    decoded = bool(encodings) and all(e in decodable for e in encodings)
    drop = {b"transfer-encoding"}
    if decoded:
        drop |= {b"content-encoding", b"content-length"}
    headers = [(name.lower(), value) for name, value in reply.headers.raw]
    return [(name, value) for name, value in headers if name not in drop]


async def fetch(resource: Request | str, **options: Any) -> Response:
    """Send one HTTP request and return the :class:`Response` (see module docstring)."""
    import httpx

    options.pop("cf", None)
    options.pop("fetcher", None)
    redirect = options.pop("redirect", None)
    if isinstance(resource, Request):
        request = Request(resource, **options) if options else resource
    else:
        request = Request(str(resource), **options)
    redirect = redirect or request.redirect
    body = await request.bytes() if request.body is not None else None
    resources = current_resources()
    own = None if resources is not None else httpx.AsyncClient(follow_redirects=False,
                                                               timeout=None)
    client = own if own is not None else resources.http_client()  # type: ignore[union-attr]
    try:
        reply = await client.request(
            str(request.method),
            request.url,
            headers=request.headers.raw(),
            content=body,
            follow_redirects=redirect == "follow",
        )
    except httpx.HTTPError as exc:
        raise OSError(f"fetch failed: {exc}") from exc
    finally:
        if own is not None:
            await own.aclose()
    if redirect == "error" and reply.is_redirect:
        raise TypeError(f"Redirect encountered while fetching {request.url} with redirect: error")
    return Response.from_parts(
        reply.status_code,
        Headers.from_raw(_passable_headers(reply)),
        reply.content or None,
        None,
        status_text=reply.reason_phrase,
        url=str(reply.url),
        redirected=bool(reply.history),
    )
