"""The JavaScript globals that 2024-era Python Workers import with ``from js import ...``.

Each is a thin Python object with the JavaScript spelling: constructors are reached with
``.new(...)`` and accept a JavaScript-style init dict positionally or as keyword arguments
(Pyodide folds keyword arguments into a trailing options object). The objects built are the
real edgekv ones, so ``js.Response.new(...)`` returns a :class:`Response` the server sends.

Provided: ``Response``, ``Request``, ``Headers``, ``FormData``, ``Blob``, ``File``, ``fetch``,
``Object``, ``JSON``, ``console``, ``URL``, ``Date``, ``crypto``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from edgekv import js
from edgekv.runtime.ffi import JsNull, JsProxy
from edgekv.runtime.web.blob import Blob as _Blob
from edgekv.runtime.web.blob import File as _File
from edgekv.runtime.web.fetch import fetch as _fetch
from edgekv.runtime.web.formdata import FormData as _FormData
from edgekv.runtime.web.headers import Headers as _Headers
from edgekv.runtime.web.request import Request as _Request
from edgekv.runtime.web.response import HybridJson
from edgekv.runtime.web.response import Response as _Response

__all__ = [
    "JSON",
    "URL",
    "Blob",
    "Date",
    "File",
    "FormData",
    "Headers",
    "Object",
    "Request",
    "Response",
    "console",
    "crypto",
    "fetch",
]


def _init(init: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a positional JavaScript init object with keyword options (keywords win)."""
    if isinstance(init, JsProxy):
        init = init.to_py()
    merged = dict(init) if isinstance(init, Mapping) else {}
    merged.update(kwargs)
    return {k: v for k, v in merged.items() if v is not None and not isinstance(v, JsNull)}


def _js_body(body: Any) -> Any:
    # JavaScript accepts any BufferSource and stringifies other objects.
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if body is None or isinstance(body, JsNull | str | bytes | _FormData | _Blob | _Response):
        return None if isinstance(body, JsNull) else body
    if hasattr(body, "__aiter__"):
        return body
    return str(body)


class Response(_Response):
    """JavaScript ``Response``: ``Response.new(body, {"status": 404, "headers": {...}})``."""

    __slots__ = ()

    @classmethod
    def new(cls, body: Any = None, init: Any = None, **kwargs: Any) -> Response:
        options = _init(init, kwargs)
        return cls(
            _js_body(body),
            status=options.get("status"),
            status_text=options.get("statusText", ""),
            headers=options.get("headers"),
            web_socket=options.get("webSocket"),
        )

    json = HybridJson("json_from_init")

    @classmethod
    def json_from_init(cls, data: Any, init: Any = None, **kwargs: Any) -> Response:
        """JavaScript's static ``Response.json(data, init)`` (reached as ``Response.json``)."""
        options = _init(init, kwargs)
        return cls.from_json(  # type: ignore[return-value]
            data, options.get("status", 200), options.get("statusText", ""), options.get("headers")
        )


class Request(_Request):
    """JavaScript ``Request``: ``Request.new(url, {"method": "POST", "body": ...})``."""

    __slots__ = ()

    @classmethod
    def new(cls, input: Any, init: Any = None, **kwargs: Any) -> Request:
        return cls(input, **_init(init, kwargs))


class Headers(_Headers):
    """JavaScript ``Headers``: ``Headers.new({"a": "b"})`` or ``Headers.new([["a", "b"]])``."""

    __slots__ = ()

    @classmethod
    def new(cls, init: Any = None) -> Headers:
        return cls(init.to_py() if isinstance(init, JsProxy) else init)


class FormData(_FormData):
    """JavaScript ``FormData``: ``FormData.new()``."""

    @classmethod
    def new(cls) -> FormData:
        return cls()


class Blob(_Blob):
    """JavaScript ``Blob``: ``Blob.new(parts, {"type": "text/plain"})``."""

    __slots__ = ()

    @classmethod
    def new(cls, parts: Iterable[Any] = (), options: Any = None, **kwargs: Any) -> Blob:
        opts = _init(options, kwargs)
        return cls(list(parts), opts.get("type"), opts.get("endings"))


class File(_File):
    """JavaScript ``File``: ``File.new(parts, name, {"type": ...})``."""

    __slots__ = ()

    @classmethod
    def new(cls, parts: Iterable[Any], name: str, options: Any = None, **kwargs: Any) -> File:
        opts = _init(options, kwargs)
        return cls(list(parts), name, opts.get("type"), opts.get("endings"), opts.get("lastModified"))


async def fetch(resource: Any, init: Any = None, **kwargs: Any) -> _Response:
    """JavaScript ``fetch(resource, init)``; returns edgekv's :class:`Response`."""
    options = _init(init, kwargs)
    if "body" in options:
        options["body"] = _js_body(options["body"])
    return await _fetch(resource, **options)


class Object:
    """The few static ``Object`` helpers Python Workers call."""

    @staticmethod
    def fromEntries(entries: Any) -> dict[Any, Any]:
        """``dict`` from ``(key, value)`` pairs or from a mapping."""
        if isinstance(entries, Mapping):
            return dict(entries)
        return {k: v for k, v in entries}

    @staticmethod
    def entries(obj: Mapping[Any, Any]) -> list[list[Any]]:
        return [[k, v] for k, v in obj.items()]

    @staticmethod
    def keys(obj: Mapping[Any, Any]) -> list[Any]:
        return list(obj.keys())

    @staticmethod
    def values(obj: Mapping[Any, Any]) -> list[Any]:
        return list(obj.values())

    @staticmethod
    def assign(target: dict[Any, Any], *sources: Mapping[Any, Any]) -> dict[Any, Any]:
        for source in sources:
            target.update(source)
        return target

    @staticmethod
    def new() -> dict[Any, Any]:
        return {}


def _to_json_value(value: Any) -> Any:
    if isinstance(value, JsNull):
        return None
    if isinstance(value, JsProxy):
        return value.to_py()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class JSON:
    """JavaScript ``JSON``: V8's ``stringify`` (compact unless ``space``) and ``parse``."""

    @staticmethod
    def stringify(value: Any, replacer: Any = None, space: int | str | None = None) -> str | None:
        return js.stringify(value, replacer, space, default=_to_json_value)

    @staticmethod
    def parse(text: str | bytes) -> Any:
        return js.parse(text)


_console_logger = logging.getLogger("edgekv.worker")


def _fmt(args: tuple[Any, ...]) -> str:
    return " ".join(_fmt_arg(a) for a in args)


def _fmt_arg(arg: Any) -> str:
    if isinstance(arg, str):
        return arg
    if isinstance(arg, dict | list):
        text = JSON.stringify(arg)
        if text is not None:  # always: only undefined and functions stringify to undefined
            return text
    return str(arg)


class _Console:
    """JavaScript ``console``: each method logs to the ``edgekv.worker`` logger."""

    def log(self, *args: Any) -> None:
        _console_logger.info(_fmt(args))

    def info(self, *args: Any) -> None:
        _console_logger.info(_fmt(args))

    def debug(self, *args: Any) -> None:
        _console_logger.debug(_fmt(args))

    def warn(self, *args: Any) -> None:
        _console_logger.warning(_fmt(args))

    def error(self, *args: Any) -> None:
        _console_logger.error(_fmt(args))


console = _Console()


class URL:
    """A small JavaScript ``URL``: parse with ``URL.new(url, base=None)``, read components."""

    def __init__(self, url: str, base: str | None = None) -> None:
        href = urljoin(base, url) if base else url
        parts = urlsplit(href)
        if not parts.scheme:
            raise TypeError(f"Invalid URL: {url}")
        self._parts = parts
        self.href = href

    @classmethod
    def new(cls, url: str, base: str | None = None) -> URL:
        return cls(url, base)

    protocol = property(lambda self: f"{self._parts.scheme}:")
    host = property(lambda self: self._parts.netloc.rpartition("@")[2])
    hostname = property(lambda self: self._parts.hostname or "")
    port = property(lambda self: "" if self._parts.port is None else str(self._parts.port))
    pathname = property(lambda self: self._parts.path or "/")
    search = property(lambda self: f"?{self._parts.query}" if self._parts.query else "")
    hash = property(lambda self: f"#{self._parts.fragment}" if self._parts.fragment else "")
    origin = property(lambda self: f"{self._parts.scheme}://{self.host}")

    def toString(self) -> str:
        return self.href

    __str__ = toString

    def __repr__(self) -> str:
        return f"URL({self.href!r})"


class Date:
    """``Date.now()``: milliseconds since the epoch."""

    @staticmethod
    def now() -> int:
        return int(time.time() * 1000)


class _Crypto:
    """``crypto.randomUUID()``."""

    @staticmethod
    def randomUUID() -> str:
        return str(uuid.uuid4())


crypto = _Crypto()
