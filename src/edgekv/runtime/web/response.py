"""``Response``: what a Worker's ``fetch`` returns (and what outbound ``fetch`` yields).

Mirrors ``workers.Response`` from the Cloudflare SDK:

* ``Response(body=None, status=None, status_text="", headers=None, web_socket=None)``;
  ``body`` is ``str``/``bytes``/``FormData``/``Blob``/an async iterable of ``bytes``; any other
  Python type (``dict`` included) raises ``TypeError("Unsupported type in Response: dict")``.
  ``status`` defaults to 200 and must lie in 200..599 (``ValueError``, JavaScript's
  ``RangeError``); 101 is allowed only with ``web_socket``.
* ``Response.json(data, status=200, status_text="", headers=None)`` used on the class builds a
  JSON response (``content-type: application/json`` unless given); ``await resp.json()`` on an
  instance reads the body. ``Response.from_json`` is the same constructor.
* ``Response.redirect(url, status=302)``: ``status`` in {301, 302, 303, 307, 308}, else
  ``ValueError``; ``url`` must be absolute (Workers have no base URL), else ``TypeError``.
* ``status``, ``status_text``, ``ok``, ``headers``, ``url``, ``redirected``, ``type``, the
  read-once body API of :class:`Body`, ``clone()``, ``replace_body()``,
  ``raise_for_status()``, ``js_object`` (the response itself).
"""

from __future__ import annotations

import json as _json
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from edgekv.runtime.web.body import TEXT_PLAIN, Body, extract_body
from edgekv.runtime.web.headers import Headers

__all__ = ["NULL_BODY_STATUSES", "REDIRECT_STATUSES", "HybridJson", "Response"]

NULL_BODY_STATUSES = frozenset({101, 204, 205, 304})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The fast constructor's headers in their wire form (decoded only if the Worker reads them).
_TEXT_HEADERS = ((b"content-type", TEXT_PLAIN.encode("latin-1")),)


class HybridJson:
    """``Response.json(data, ...)`` on the class builds; ``await resp.json()`` reads.

    The SDK gets the same effect by inspecting ``self``; this descriptor returns the class
    method named ``static`` when read from the class and the body reader from an instance.
    """

    def __init__(self, static: str) -> None:
        self.static = static

    def __get__(self, obj: Response | None, owner: type[Response]) -> Callable[..., Any]:
        if obj is None:
            return getattr(owner, self.static)  # type: ignore[no-any-return]
        return Body.json.__get__(obj, owner)


class Response(Body):
    """An HTTP response (see module docstring for the contract)."""

    __slots__ = ("_headers", "_redirected", "_status", "_status_text", "_url", "web_socket")

    _status: int
    _status_text: str
    _headers: Headers
    _url: str
    _redirected: bool

    def __init__(
        self,
        body: Any = None,
        status: HTTPStatus | int | None = None,
        status_text: str = "",
        headers: Any = None,
        web_socket: Any = None,
    ) -> None:
        if headers is None and not status_text and web_socket is None and (
            status is None or type(status) is int and 200 <= status <= 599
        ):
            # The common Worker answer, Response("text") or Response(b"...", status=404): no
            # options to validate, so skip the general path (same result, fewer allocations).
            code = status or 200
            if code not in NULL_BODY_STATUSES:
                body_type = type(body)
                if body_type is str:
                    self._init_fast(code, body.encode("utf-8"), _TEXT_HEADERS)
                    return
                if body_type is bytes or body is None:
                    self._init_fast(code, body, None)
                    return
        if isinstance(body, Response):
            if status is not None or status_text or headers is not None:
                raise ValueError(
                    "Expected no options when constructing Response from a js.Response"
                )
            status, status_text, headers = body._status, body._status_text, body.headers
        content, stream, ctype = extract_body(body, "Response")
        code = 200 if not status else int(status)
        if not 200 <= code <= 599 and not (code == 101 and web_socket is not None):
            raise ValueError(
                "Responses may only be constructed with status codes in the range 200 to 599, "
                "inclusive."
            )
        if code in NULL_BODY_STATUSES and (content or stream is not None):
            raise TypeError(f"Response with null body status ({code}) cannot have a body.")
        self._status = code
        self._status_text = status_text or ""
        self._headers = Headers(headers)
        if ctype is not None and "content-type" not in self._headers:
            self._headers.append("content-type", ctype)
        self._url = ""
        self._redirected = False
        self.web_socket = web_socket
        self._init_body(content, stream)

    def _init_fast(self, code: int, content: bytes | None,
                   headers: tuple[tuple[bytes, bytes], ...] | None) -> None:
        self._status = code
        self._status_text = ""
        self._headers = Headers.from_raw(list(headers) if headers is not None else [])
        self._url = ""
        self._redirected = False
        self.web_socket = None
        self._content = content
        self._stream = None
        self._used = False

    @classmethod
    def from_parts(
        cls,
        status: int,
        headers: Headers,
        content: bytes | None,
        stream: AsyncIterator[bytes] | None,
        *,
        status_text: str = "",
        url: str = "",
        redirected: bool = False,
    ) -> Response:
        """A response from parts already checked (no validation, no copies): for edgekv's
        bridges that build a response from an HTTP reply or an app's ASGI messages."""
        self = cls.__new__(cls)
        self._status = status
        self._status_text = status_text
        self._headers = headers
        self._url = url
        self._redirected = redirected
        self.web_socket = None
        self._init_body(content, stream)
        return self

    # -- static constructors ----------------------------------------------------------------

    @classmethod
    def from_json(
        cls,
        data: Any,
        status: HTTPStatus | int = HTTPStatus.OK,
        status_text: str = "",
        headers: Any = None,
    ) -> Response:
        """A response whose body is ``json.dumps(data)``, typed ``application/json``."""
        hdrs = Headers(headers)
        if "content-type" not in hdrs:
            hdrs.append("content-type", "application/json")
        return cls(_json.dumps(data), status, status_text, hdrs)

    json = HybridJson("from_json")

    @classmethod
    def redirect(cls, url: str, status: HTTPStatus | int = HTTPStatus.FOUND) -> Response:
        """A redirect to the absolute ``url`` with an empty body."""
        code = int(status)
        if code not in REDIRECT_STATUSES:
            raise ValueError(f"Invalid status code: {code}")
        if not urlsplit(str(url)).scheme:
            raise TypeError(f"Unable to parse URL: {url}")
        return cls.from_parts(code, Headers([("location", str(url))]), None, None)

    # -- properties -------------------------------------------------------------------------

    @property
    def status(self) -> int:
        return self._status

    @property
    def status_text(self) -> str:
        return self._status_text

    statusText = status_text

    @property
    def ok(self) -> bool:
        """``True`` for a 2xx status."""
        return 200 <= self._status <= 299

    @property
    def headers(self) -> Headers:  # type: ignore[override]
        """The live header collection: changes made before the server sends it take effect."""
        return self._headers

    @property
    def url(self) -> str:
        """Final URL of an outbound ``fetch``; ``""`` for a constructed response."""
        return self._url

    @property
    def redirected(self) -> bool:
        return self._redirected

    @property
    def type(self) -> str:
        return "default" if not self._url else "basic"

    @property
    def js_object(self) -> Response:
        """The response itself: edgekv has no JavaScript object behind it."""
        return self

    js_response = js_object

    # -- methods ----------------------------------------------------------------------------

    def clone(self) -> Response:
        """An independent copy; raises ``OSError("Body already used")`` after a read."""
        content, stream = self._clone_body()
        return type(self).from_parts(
            self._status, self._headers.copy(), content, stream,
            status_text=self._status_text, url=self._url, redirected=self._redirected,
        )

    def replace_body(self, body: Any) -> Response:
        """A new response with this one's status and headers and a new ``body``."""
        content, stream, ctype = extract_body(body, "Response")
        headers = self._headers.copy()
        if ctype is not None and "content-type" not in headers:
            headers.append("content-type", ctype)
        return type(self).from_parts(
            self._status, headers, content, stream, status_text=self._status_text
        )

    def raise_for_status(self) -> None:
        """Raise ``OSError`` for a 4xx/5xx status, as Pyodide's ``FetchResponse`` does."""
        if 400 <= self._status < 600:
            kind = "Client" if self._status < 500 else "Server"
            raise OSError(
                f"{self._status} {kind} Error: {self._status_text} for url: {self._url}"
            )

    def __repr__(self) -> str:
        parts = [f"status={self._status}"]
        if self._status_text:
            parts.append(f"status_text={self._status_text!r}")
        ctype = self._headers.get("content-type")
        if ctype is not None:
            parts.append(f"content_type={ctype!r}")
        if self._url:
            parts.append(f"url={self._url!r}")
        return f"Response({', '.join(parts)})"
