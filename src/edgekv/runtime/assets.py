"""Static assets served in front of the Worker, as Cloudflare's asset and router workers do.

``AssetServer(config)`` serves the ``assets.directory`` of a wrangler config:

- **routing** (:meth:`AssetServer.route`): with no Worker, every request goes to the assets.
  With a Worker: ``run_worker_first = true`` (or a matching pattern such as ``/api/*``, with
  ``!/api/docs`` exclusions) sends the request to the Worker; otherwise an asset that exists
  for the path (after ``_redirects`` and ``html_handling``) is served, and anything else goes
  to the Worker. ``not_found_handling`` applies in front of a Worker only to navigation
  requests (``Sec-Fetch-Mode: navigate``), as Cloudflare does since 2025-04-01.
- **html_handling**: ``auto-trailing-slash`` (default) serves ``/about`` from ``about.html``
  and ``/blog/`` from ``blog/index.html``, and answers ``/about.html`` and ``/blog`` with a
  307 to the canonical path; ``force-trailing-slash``, ``drop-trailing-slash`` and ``none``
  as documented by Cloudflare.
- **not_found_handling**: ``single-page-application`` serves ``/index.html`` with 200;
  ``404-page`` serves the nearest ``404.html`` up the path with 404; ``none`` a bare 404.
- **responses**: ``ETag`` (strong, a content hash) with ``If-None-Match`` → 304;
  ``Content-Type`` from the extension (``; charset=utf-8`` on ``text/*``); ``Cache-Control: public,
  max-age=0, must-revalidate`` unless the request carries ``Authorization`` or ``Range``;
  ``GET`` and ``HEAD`` only (405 otherwise).
- ``_redirects`` (``/from /to [status]``, splats ``*``/``:splat``, placeholders ``:name``,
  status 301/302/303/307/308, or 200 to serve another path) and ``_headers`` (a path pattern,
  then indented ``Name: value`` lines, ``! Name`` to remove) at the directory's root, plus
  ``.assetsignore`` patterns; those three files are never served.

:class:`AssetsBinding` is ``env.ASSETS``: ``await env.ASSETS.fetch(request_or_url)`` serves
an asset whatever ``run_worker_first`` says.

Files are read from disk on each request (so edits show without a restart); ETags are cached
by file size and modification time.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from edgekv.config.model import AssetsConfig
from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.response import Response

__all__ = ["AssetServer", "AssetsBinding", "content_type_for"]

CACHE_CONTROL = "public, max-age=0, must-revalidate"
_HIDDEN = frozenset({"_headers", "_redirects", ".assetsignore"})
_MIME = mimetypes.MimeTypes()  # the built-in table only: the same types on every machine
# Where Python's table and the ``mime`` package Cloudflare uses differ (or Python lacks one).
_EXTRA_TYPES = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".cjs": "text/javascript",
    ".json": "application/json", ".wasm": "application/wasm", ".webp": "image/webp",
    ".avif": "image/avif", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
    ".otf": "font/otf", ".ico": "image/vnd.microsoft.icon", ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json", ".md": "text/markdown",
    ".xml": "application/xml", ".map": "application/json", ".txt": "text/plain",
}
_REDIRECT_STATUSES = frozenset({200, 301, 302, 303, 307, 308})


def content_type_for(name: str) -> str:
    """The ``Content-Type`` Cloudflare sends for a file name (workers-shared
    ``getContentType``: the ``mime`` table, ``; charset=utf-8`` on ``text/*``)."""
    suffix = Path(name).suffix.lower()
    ctype = _EXTRA_TYPES.get(suffix) or _MIME.guess_type("x" + suffix)[0]
    if ctype is None:
        return "application/octet-stream"
    if ctype.startswith("text/"):
        return f"{ctype}; charset=utf-8"
    return ctype


def _pattern(rule: str) -> re.Pattern[str]:
    """A ``_headers``/``_redirects``/``run_worker_first`` path pattern as a regex."""
    out: list[str] = []
    for token in re.split(r"(\*|:[A-Za-z]\w*)", rule):
        if token == "*":
            out.append("(?P<splat>.*)" if "(?P<splat>" not in "".join(out) else ".*")
        elif token.startswith(":") and len(token) > 1:
            out.append(f"(?P<{token[1:]}>[^/]+)")
        else:
            out.append(re.escape(token))
    return re.compile("".join(out) + r"\Z")


def _substitute(value: str, groups: dict[str, str]) -> str:
    for name, text in groups.items():
        value = value.replace(f":{name}", text or "")
    return value


@dataclass(frozen=True)
class _Redirect:
    regex: re.Pattern[str]
    to: str
    status: int
    static: bool


@dataclass(frozen=True)
class _HeaderRule:
    regex: re.Pattern[str]
    host_rule: bool
    set: tuple[tuple[str, str], ...]
    unset: tuple[str, ...]


def _parse_redirects(text: str) -> list[_Redirect]:
    rules: list[_Redirect] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        status = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 302
        if status not in _REDIRECT_STATUSES:
            continue
        source = parts[0]
        static = "*" not in source and ":" not in source
        rules.append(_Redirect(_pattern(source), parts[1], status, static))
    # Static rules win over dynamic ones, each group in file order (Cloudflare's rule).
    return [r for r in rules if r.static] + [r for r in rules if not r.static]


def _parse_headers(text: str) -> list[_HeaderRule]:
    rules: list[_HeaderRule] = []
    current: tuple[str, list[tuple[str, str]], list[str]] | None = None

    def close() -> None:
        if current is not None:
            path, sets, unsets = current
            rules.append(_HeaderRule(_pattern(path), "://" in path, tuple(sets), tuple(unsets)))

    for raw in text.splitlines():
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        if not raw[0].isspace():
            close()
            current = (raw.strip(), [], [])
            continue
        if current is None:
            continue
        line = raw.strip()
        if line.startswith("!"):
            current[2].append(line[1:].strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            current[1].append((name.strip(), value.strip()))
    close()
    return rules


@dataclass
class _Intent:
    file: str | None = None  # the asset to serve ("/about.html")
    status: int = 200
    redirect: str | None = None


class AssetServer:
    """The assets of one Worker (see the module docstring)."""

    def __init__(self, config: AssetsConfig, *, has_worker: bool = True) -> None:
        root = config.directory_path
        if root is None:
            raise ValueError("assets.directory is not set")
        self.config = config
        self.root = root
        self.has_worker = has_worker
        self._etags: dict[str, tuple[int, int, str]] = {}
        self._rules_key: tuple[float, ...] | None = None
        self._redirects: list[_Redirect] = []
        self._headers: list[_HeaderRule] = []
        self._ignore: list[str] = []
        first = config.run_worker_first
        self._first_all = first is True
        patterns = first if isinstance(first, tuple) else ()
        self._first_yes = [_pattern(p) for p in patterns if not p.startswith("!")]
        self._first_no = [_pattern(p[1:]) for p in patterns if p.startswith("!")]

    # -- configuration files --------------------------------------------------------------

    def _load_rules(self) -> None:
        files = [self.root / name for name in ("_redirects", "_headers", ".assetsignore")]
        key = tuple(f.stat().st_mtime if f.is_file() else -1.0 for f in files)
        if key == self._rules_key:
            return
        self._rules_key = key
        texts = [f.read_text("utf-8") if f.is_file() else "" for f in files]
        self._redirects = _parse_redirects(texts[0])
        self._headers = _parse_headers(texts[1])
        self._ignore = [line.strip() for line in texts[2].splitlines()
                        if line.strip() and not line.startswith("#")]

    def _ignored(self, rel: str) -> bool:
        if rel in _HIDDEN:
            return True
        for pattern in self._ignore:
            pat = pattern.strip("/")
            if fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, pat + "/*") or any(
                fnmatch.fnmatch(part, pat) for part in rel.split("/")
            ):
                return True
        return False

    # -- the file system ---------------------------------------------------------------------

    def _file(self, path: str) -> Path | None:
        rel = path.lstrip("/")
        if not rel or "\0" in rel or any(part in ("", ".", "..") for part in rel.split("/")):
            return None
        if self._ignored(rel):
            return None
        candidate = self.root / rel
        try:
            if not candidate.is_file() or not candidate.resolve().is_relative_to(self.root):
                return None
        except OSError:
            return None
        return candidate

    def exists(self, path: str) -> bool:
        """Whether ``path`` (decoded, starting with ``/``) names a servable file."""
        return self._file(path) is not None

    def _etag(self, path: str, file: Path, data: bytes | None = None) -> str:
        stat = file.stat()
        cached = self._etags.get(path)
        if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return cached[2]
        if data is None:
            data = file.read_bytes()
        etag = hashlib.sha256(data + Path(path).suffix.encode()).hexdigest()[:32]
        self._etags[path] = (stat.st_size, stat.st_mtime_ns, etag)
        return etag

    # -- routing -------------------------------------------------------------------------------

    def worker_first(self, request: Request) -> bool:
        """Whether ``run_worker_first`` sends ``request`` to the Worker before any asset."""
        if not self.has_worker:
            return False
        if self._first_all:
            return True
        if not self._first_yes:
            return False
        path = urlsplit(request.url).path or "/"
        return any(p.match(path) for p in self._first_yes) and not any(
            p.match(path) for p in self._first_no
        )

    def route(self, request: Request) -> bool:
        """True when the assets answer ``request`` (else the Worker does)."""
        if not self.has_worker:
            return True
        if self.worker_first(request):
            return False
        navigate = request.headers.get("sec-fetch-mode") == "navigate"
        intent = self._intent(request, not_found=navigate)
        return intent is not None

    def _intent(self, request: Request, *, not_found: bool = True) -> _Intent | None:
        """What to answer: a file, a redirect, or None (nothing here: the Worker's turn)."""
        self._load_rules()
        parts = urlsplit(request.url)
        path = parts.path or "/"
        redirect = self._redirect(path, parts.query)
        if redirect is not None:
            target, status = redirect
            if status != 200:
                return _Intent(redirect=target, status=status)
            path = urlsplit(target).path or "/"
        decoded = unquote(path)
        intent = self._html(decoded)
        if redirect is not None and intent is not None and intent.redirect is not None:
            # A 200 rule serves its target; the target's canonical form, not a redirect.
            intent = self._html(unquote(intent.redirect))
        if intent is None and not_found:
            intent = self._not_found(decoded)
        if intent is not None and intent.file is not None and intent.redirect is None:
            canonical = quote(decoded, safe="/-_.~!$&'()*+,;=:@")
            if canonical != path and redirect is None:
                intent = _Intent(redirect=canonical, status=307)
        return intent

    def _redirect(self, path: str, query: str) -> tuple[str, int] | None:
        for rule in self._redirects:
            match = rule.regex.match(path)
            if match is None:
                continue
            target = _substitute(rule.to, {k: v for k, v in match.groupdict().items()})
            if query and "?" not in target:
                target += "?" + query
            return target, rule.status
        return None

    def _serve(self, file: str) -> _Intent:
        return _Intent(file=file)

    def _moved(self, file: str, destination: str) -> _Intent | None:
        # Cloudflare's safeRedirect: redirect only when the file exists and the destination
        # is not an asset of its own (that would loop).
        if self.exists(file) and not self.exists(destination):
            return _Intent(redirect=quote(destination, safe="/-_.~!$&'()*+,;=:@"), status=307)
        return None

    def _html(self, path: str) -> _Intent | None:
        mode = self.config.html_handling
        if mode == "none":
            return self._serve(path) if self.exists(path) else None
        if mode == "auto-trailing-slash":
            return self._auto(path)
        if mode == "force-trailing-slash":
            return self._force(path)
        return self._drop(path)

    def _auto(self, path: str) -> _Intent | None:
        exact = self.exists(path)
        if path.endswith("/index"):
            if exact:
                return self._serve(path)
            return (self._moved(path + ".html", path[: -len("index")])
                    or self._moved(path[: -len("/index")] + ".html", path[: -len("/index")]))
        if path.endswith("/index.html"):
            found = (self._moved(path, path[: -len("index.html")])
                     or self._moved(path[: -len("/index.html")] + ".html",
                                    path[: -len("/index.html")]))
            if found:
                return found
        elif path.endswith("/"):
            if self.exists(path + "index.html"):
                return self._serve(path + "index.html")
            found = self._moved(path[:-1] + ".html", path[:-1])
            if found:
                return found
        elif path.endswith(".html"):
            stem = path[: -len(".html")]
            found = self._moved(path, stem) or self._moved(stem + "/index.html", stem + "/")
            if found:
                return found
        if exact:
            return self._serve(path)
        if self.exists(path + ".html"):
            return self._serve(path + ".html")
        return self._moved(path + "/index.html", path + "/")

    def _force(self, path: str) -> _Intent | None:
        if path.endswith("/index.html"):
            return self._moved(path, path[: -len("index.html")])
        if path.endswith(".html"):
            stem = path[: -len(".html")]
            return self._moved(path, stem + "/") or (
                self._serve(path) if self.exists(path) else None)
        if path.endswith("/"):
            for file in (path + "index.html", path[:-1] + ".html"):
                if self.exists(file):
                    return self._serve(file)
            return None
        if self.exists(path):
            return self._serve(path)
        return self._moved(path + ".html", path + "/") or self._moved(
            path + "/index.html", path + "/")

    def _drop(self, path: str) -> _Intent | None:
        if path.endswith("/index.html"):
            target = path[: -len("/index.html")] or "/"
            return self._moved(path, target)
        if path.endswith(".html"):
            return self._moved(path, path[: -len(".html")])
        if path.endswith("/") and path != "/":
            return self._moved(path + "index.html", path[:-1]) or self._moved(
                path[:-1] + ".html", path[:-1])
        if path == "/":
            return self._serve("/index.html") if self.exists("/index.html") else None
        if self.exists(path):
            return self._serve(path)
        for file in (path + ".html", path + "/index.html"):
            if self.exists(file):
                return self._serve(file)
        return None

    def _not_found(self, path: str) -> _Intent | None:
        mode = self.config.not_found_handling
        if mode == "single-page-application" and self.exists("/index.html"):
            return _Intent(file="/index.html")
        if mode == "404-page":
            cwd = path
            while True:
                cwd = cwd[: cwd.rfind("/")] if "/" in cwd else ""
                if self.exists(f"{cwd}/404.html"):
                    return _Intent(file=f"{cwd}/404.html", status=404)
                if not cwd:
                    return None
        return None

    # -- answering -------------------------------------------------------------------------------

    async def fetch(self, request: Request) -> Response:
        """Answer ``request`` from the assets (404 with an empty body when nothing matches)."""
        intent = self._intent(request)
        method = str(request.method)
        if intent is None:
            response = Response(None, status=404)
        elif intent.redirect is not None:
            if intent.status == 307 or method in ("GET", "HEAD"):
                response = Response(None, status=intent.status,
                                    headers={"Location": intent.redirect})
            else:
                response = Response(None, status=405)
        elif method not in ("GET", "HEAD"):
            response = Response(None, status=405)
        else:
            response = await self._file_response(request, intent)
        return self._custom_headers(request, response)

    async def _file_response(self, request: Request, intent: _Intent) -> Response:
        assert intent.file is not None
        file = self._file(intent.file)
        if file is None:
            return Response(None, status=404)
        data = await asyncio.to_thread(file.read_bytes)
        etag = self._etag(intent.file, file, data)
        headers = Headers({"ETag": f'"{etag}"', "Content-Type": content_type_for(file.name)})
        if "authorization" not in request.headers and "range" not in request.headers:
            headers.set("Cache-Control", CACHE_CONTROL)
        if request.headers.get("if-none-match") in (f'"{etag}"', f'W/"{etag}"'):
            return Response(None, status=304, headers=headers)
        return Response(data, status=intent.status, headers=headers)

    def _custom_headers(self, request: Request, response: Response) -> Response:
        if not self._headers:
            return response
        parts = urlsplit(request.url)
        seen: set[str] = set()
        for rule in self._headers:
            subject = request.url.split("?")[0] if rule.host_rule else (parts.path or "/")
            match = rule.regex.match(subject)
            if match is None:
                continue
            groups = match.groupdict()
            for name in rule.unset:
                response.headers.delete(name)
            for name, value in rule.set:
                value = _substitute(value, groups)
                if name.lower() in seen:
                    response.headers.append(name, value)
                else:
                    response.headers.set(name, value)
                    seen.add(name.lower())
        return response


class AssetsBinding:
    """``env.ASSETS``: ``await env.ASSETS.fetch(request_or_url, **init)`` serves an asset."""

    def __init__(self, server: AssetServer, request_factory: Callable[..., Request]) -> None:
        self._server = server
        self._request = request_factory

    async def fetch(self, resource: Any, init: Any = None, **options: Any) -> Response:
        """Serve ``resource`` (a Request, or a URL with Request options) from the assets."""
        if hasattr(resource, "js_object") and not isinstance(resource, Request):
            resource = resource.js_object
        if isinstance(resource, Request) and not init and not options:
            request = resource
        else:
            request = self._request(resource, **dict(init or {}), **options)
        return await self._server.fetch(request)

    def __repr__(self) -> str:
        return "Fetcher(ASSETS)"
