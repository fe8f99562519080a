"""``Request``: the incoming (or outgoing) HTTP request handed to a Worker.

Mirrors ``workers.Request`` from the Cloudflare SDK: ``url`` (str), ``method``
(``http.HTTPMethod``, a ``StrEnum`` so ``== "POST"`` holds), ``headers`` (:class:`Headers`),
``cf`` (``None`` on edgekv), the read-once body API of :class:`Body`, a synchronous
``clone()``, and ``js_object`` (the request itself: on CPython there is no JavaScript twin, and
``workers.asgi.fetch(app, request.js_object, env)`` accepts it).

``Request.from_asgi(scope, receive)`` is the dev server's hot path: it stores the scope and
decodes nothing (url, headers, body are built on first use).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from http import HTTPMethod
from typing import Any
from urllib.parse import quote, urlsplit

from edgekv.asgi_types import Receive, Scope
from edgekv.runtime.web.body import Body, extract_body
from edgekv.runtime.web.headers import Headers

__all__ = ["Request"]

_METHODS: dict[str, HTTPMethod] = dict(HTTPMethod.__members__)
_NO_BODY_METHODS = frozenset({"GET", "HEAD"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}



def _as_method(method: str) -> HTTPMethod | str:
    # Standard methods become HTTPMethod members, like the SDK's HTTPMethod[...] lookup;
    # an extension method (e.g. PROPFIND) stays a str instead of raising KeyError.
    upper = method.upper()
    return _METHODS.get(upper, upper)


async def _asgi_body(receive: Receive) -> AsyncIterator[bytes]:
    """Yield the request body chunks of one ASGI ``http`` connection."""
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            raise OSError("The client disconnected before sending the whole request body")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _url_from_scope(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    host = None
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if host is None:
        server = scope.get("server")
        if server:
            name, port = server[0], server[1]
            host = name if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"
        else:
            host = "localhost"
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(scope.get("path", "/"), safe="/%")
    query = scope.get("query_string", b"")
    if query:
        return f"{scheme}://{host}{path}?{query.decode('latin-1')}"
    return f"{scheme}://{host}{path}"


class Request(Body):
    """An HTTP request (see module docstring for the contract)."""

    __slots__ = ("_cf", "_headers", "_method", "_redirect", "_scope", "_url")

    _cf: Any
    _redirect: str

    def __init__(
        self,
        input: Request | str,
        *,
        method: HTTPMethod | str | None = None,
        headers: Any = None,
        body: Any = None,
        redirect: str | None = None,
        cf: Any = None,
        **_ignored: Any,
    ) -> None:
        """Build like JavaScript ``new Request(input, init)``.

        ``input`` is a URL string or a ``Request`` whose method, headers and body are taken
        over (its body becomes used). Raises ``TypeError`` for a body on GET/HEAD, for an
        unsupported body type, or when ``input`` is a ``Request`` whose body was already read.
        """
        self._scope: Scope | None = None
        if isinstance(input, Request):
            if input._used:
                raise TypeError(
                    "Cannot construct a Request with a Request object that has already been used."
                )
            url = input.url
            base_method = input._method
            base_headers: Any = input.headers
            base_redirect = input._redirect
            base_cf = input._cf
            if body is None:
                content, stream = input.take_body()
                ctype = None
            else:
                content, stream, ctype = extract_body(body, "Request")
        else:
            url = str(input)
            base_method, base_headers, base_redirect, base_cf = "GET", None, "follow", None
            content, stream, ctype = extract_body(body, "Request")
        if not urlsplit(url).scheme:
            raise TypeError(f"Invalid URL: {url}")
        self._url: str | None = url
        chosen = method.value if isinstance(method, HTTPMethod) else method or base_method
        self._method: str = str(chosen).upper()
        if self._method in _NO_BODY_METHODS and (content is not None or stream is not None):
            raise TypeError("Request with a GET or HEAD method cannot have a body.")
        self._headers: Headers | None = Headers(headers if headers is not None else base_headers)
        if ctype is not None and "content-type" not in self._headers:
            self._headers.append("content-type", ctype)
        self._redirect = redirect or base_redirect
        self._cf = cf if cf is not None else base_cf
        self._init_body(content, stream)

    @classmethod
    def from_asgi(cls, scope: Scope, receive: Receive) -> Request:
        """Wrap one ASGI ``http`` scope; the body is pulled from ``receive`` when first read.

        Nothing is decoded here: the cost per request is one object allocation.
        """
        self = cls.__new__(cls)
        self._scope = scope
        self._url = None
        self._headers = None
        method = scope["method"]
        self._method = method
        self._redirect = "follow"
        self._cf = None
        self._used = False
        self._content = None
        self._stream = None if method in _NO_BODY_METHODS else _asgi_body(receive)
        return self

    # -- properties -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        url = self._url
        if url is None:
            url = self._url = _url_from_scope(self._scope or {})
        return url

    @property
    def method(self) -> HTTPMethod | str:
        """An ``http.HTTPMethod`` (a ``str`` for non-standard methods)."""
        return _as_method(self._method)

    @property
    def headers(self) -> Headers:  # type: ignore[override]
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers.from_raw(
                list((self._scope or {}).get("headers", ()))
            )
        return headers

    @property
    def cf(self) -> Any:
        """Cloudflare's request metadata; ``None`` on edgekv unless given to the constructor."""
        return self._cf

    @property
    def redirect(self) -> str:
        return self._redirect

    @property
    def js_object(self) -> Request:
        """The request itself: edgekv has no JavaScript object behind it."""
        return self

    @property
    def asgi_scope(self) -> Scope | None:
        """The ASGI scope this request came from, or ``None`` if built in Python."""
        return self._scope

    # Fetch-standard attributes that have fixed values for a server-side request.
    cache = None
    credentials = "same-origin"
    destination = ""
    integrity = ""
    keepalive = False
    mode = "cors"
    referrer = "about:client"
    referrer_policy = ""
    is_history_navigation = False

    def clone(self) -> Request:
        """An independent copy; raises ``OSError("Body already used")`` after a read."""
        content, stream = self._clone_body()
        twin = Request.__new__(Request)
        twin._scope = self._scope
        twin._url = self._url
        twin._method = self._method
        twin._headers = self._headers.copy() if self._headers is not None else None
        twin._redirect = self._redirect
        twin._cf = self._cf
        twin._init_body(content, stream)
        return twin

    def __repr__(self) -> str:
        return f"Request(method={self._method!r}, url={self.url!r})"
