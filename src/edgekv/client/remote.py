"""``RemoteKV``: a KV service reached through Cloudflare's v4 REST API.

Any server that speaks the API works: ``edgekv serve`` (``…/client/v4``), ``edgekv dev``
(``…/cdn-cgi/edgekv/client/v4``) or Cloudflare itself. The requests are the ones wrangler
4.86 sends (docs/cli.md, "The requests"):

- keys in a path are percent-encoded as ``encodeURIComponent`` does;
- a value is a raw body (``text/plain;charset=UTF-8`` for text, no type for bytes), or
  multipart/form-data with a ``value`` part and a ``metadata`` field when it has metadata;
- ``GET …/keys?prefix=`` follows ``result_info.cursor`` until it is empty; namespace lists
  ask ``per_page=1000&order=title&direction=asc`` page after page until one is empty;
- ``PUT …/bulk`` and ``DELETE …/bulk`` (JSON arrays) take 1,000 items per request, as
  wrangler sends them (so its progress lines are the same), and a bulk write request never
  passes the API's limits (10,000 items, 100 MB): big values split it further.

A reply of 429 (waiting as its ``Retry-After`` asks, at most ``max_retry_after``) or 5xx,
or a connection that fails, is retried with a doubling delay, ``retries`` times at most;
a namespace create, which is not idempotent, is retried only on 429. Failures raise
``ApiRequestFailed`` with wrangler's texts.
"""

from __future__ import annotations

import asyncio
import email.utils
import http
import json
import math
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Literal
from urllib.parse import quote

import httpx

from edgekv import __version__
from edgekv.client.bulkfile import export_item
from edgekv.client.errors import ApiRequestFailed, RemoteSetupError
from edgekv.client.kvclient import KVClient, Progress
from edgekv.client.settings import RemoteSettings
from edgekv.clock import SYSTEM_CLOCK, Clock
from edgekv.errors import NamespaceTitleExists
from edgekv.kv import KVNamespace, jsjson
from edgekv.kv.validation import check_key
from edgekv.limits import DEFAULT_LIMITS, Limits
from edgekv.storage import NamespaceInfo, Record, Store, open_store

__all__ = ["API_MAX_BULK_BYTES", "API_MAX_BULK_ITEMS", "WRANGLER_BULK_ITEMS", "RemoteKV"]

API_MAX_BULK_ITEMS = 10_000
API_MAX_BULK_BYTES = 100_000_000
WRANGLER_BULK_ITEMS = 1_000  # wrangler's items per bulk request (API_MAX / 10)
_DELETE_CHUNK = 1_000  # wrangler's chunk for DELETE …/bulk
_BULK_GET = 100  # the API's bulk read limit
_TITLE_EXISTS = 10014
_KEY_NOT_FOUND = 10009
_SPOOL_IN_MEMORY = 64 << 20  # a bulk load bigger than this waits on disk, not in memory

Sleep = Callable[[float], Awaitable[None]]


def _segment(text: str) -> str:
    """``encodeURIComponent(text)``: what wrangler puts in a path (``quote(text, safe="")``
    plus the five marks JavaScript leaves alone, so URLs in messages are wrangler's)."""
    return quote(text, safe="!*'()")


def _metadata_text(value: Any) -> str | None:
    return None if value is None else jsjson.stringify(value)


def _reason(response: httpx.Response) -> str:
    if response.reason_phrase:
        return response.reason_phrase
    try:
        return http.HTTPStatus(response.status_code).phrase
    except ValueError:
        return ""


def _fetch_failed(url: str, status: int, reason: str) -> str:
    """wrangler's text for a value read that failed. 4.86 ends it with ``);`` (a typo in its
    source), kept so that scripts matching wrangler's output match edgekv's."""
    return f"Failed to fetch {url} - {status}: {reason});"


def _bulk_item(record: Record) -> bytes:
    """One ``PUT …/bulk`` item as JSON (ASCII, so a lone surrogate in a key survives)."""
    return json.dumps(export_item(record), separators=(",", ":")).encode("ascii")


class RemoteKV(KVClient):
    """The namespaces of one account of a v4 API. Use as ``async with RemoteKV(settings)``.

    ``transport`` replaces the network (an ``httpx.ASGITransport`` reaches an app in
    process); ``sleep`` is what waits between retries. ``bulk_max_items``/``bulk_max_bytes``
    bound each bulk write request (the API's limits by default).
    """

    location: Literal["local", "remote"] = "remote"

    def __init__(
        self,
        settings: RemoteSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: Limits = DEFAULT_LIMITS,
        clock: Clock = SYSTEM_CLOCK,
        bulk_max_items: int = WRANGLER_BULK_ITEMS,
        bulk_max_bytes: int = API_MAX_BULK_BYTES,
        delete_chunk: int = _DELETE_CHUNK,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 60.0,
        concurrency: int = 16,
        timeout: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.limits = limits
        self.bulk_max_items = min(bulk_max_items, API_MAX_BULK_ITEMS)
        self.bulk_max_bytes = bulk_max_bytes
        self.delete_chunk = delete_chunk
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.concurrency = concurrency
        self._sleep = sleep
        self._clock = clock
        self._auth = settings.auth_headers()
        self._account: str | None = settings.account_id
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": f"edgekv/{__version__}"},
            follow_redirects=False,
        )
        self._rules: Store | None = None

    async def close(self) -> None:
        await self._http.aclose()
        if self._rules is not None:
            await self._rules.close()

    def validator(self, namespace_id: str) -> KVNamespace:
        """The binding's rules over an empty in-memory store: checks only, nothing kept."""
        if self._rules is None:
            self._rules = open_store("memory://", clock=self._clock)
        return KVNamespace(self._rules, namespace_id, limits=self.limits)

    # -- HTTP ------------------------------------------------------------------------------

    def _retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        if response is not None:
            header = response.headers.get("retry-after")
            if header:
                try:  # seconds, or an HTTP date
                    wait = float(header)
                except ValueError:
                    try:
                        wait = email.utils.parsedate_to_datetime(header).timestamp() - time.time()
                    except (TypeError, ValueError, OverflowError):
                        wait = self.backoff * (2 ** attempt)  # unreadable: the usual backoff
                if not math.isnan(wait):  # float("nan") parses
                    return min(max(wait, 0.0), self.max_retry_after)
        return float(min(self.backoff * (2 ** attempt), self.max_backoff))

    async def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    content: bytes | None = None, headers: dict[str, str] | None = None,
                    idempotent: bool = True) -> httpx.Response:
        """One API call with retries; returns the last reply (any status)."""
        url = self.base_url + path
        all_headers = {**self._auth, **(headers or {})}
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, url, params=params, content=content,
                                                    headers=all_headers)
            except httpx.TransportError as exc:
                retry = idempotent or isinstance(exc, httpx.ConnectError)  # never sent
                if attempt >= self.retries or not retry:
                    detail = str(exc) or type(exc).__name__
                    raise ApiRequestFailed(f"A request to the Cloudflare API ({path}) failed.\n"
                                           f"{detail}") from None
                await self._sleep(self._retry_delay(None, attempt))
                attempt += 1
                continue
            status = response.status_code
            if attempt < self.retries and (status == 429 or (status >= 500 and idempotent)):
                await self._sleep(self._retry_delay(response, attempt))
                attempt += 1
                continue
            return response

    @staticmethod
    def _failure(method: str, path: str, response: httpx.Response) -> ApiRequestFailed:
        try:
            body = response.json()
        except ValueError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and errors:
            lines = [f"{e.get('message')} [code: {e.get('code')}]" if isinstance(e, dict)
                     else str(e) for e in errors]
            codes = tuple(e["code"] for e in errors
                          if isinstance(e, dict) and isinstance(e.get("code"), int))
            return ApiRequestFailed(
                f"A request to the Cloudflare API ({path}) failed.\n" + "\n".join(lines),
                status=response.status_code, codes=codes,
            )
        return ApiRequestFailed(
            "Received a malformed response from the API\n"
            f"{response.text[:100]}\n"
            f"{method} {path} -> {response.status_code} {_reason(response)}",
            status=response.status_code,
        )

    async def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    body: Any = None, idempotent: bool = True) -> dict[str, Any]:
        """A JSON API call; returns the envelope. Raises ``ApiRequestFailed``."""
        content = None
        headers = None
        if body is not None:
            content = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            headers = {"Content-Type": "application/json"}
        response = await self._send(method, path, params=params, content=content,
                                    headers=headers, idempotent=idempotent)
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if (not response.is_success or not isinstance(envelope, dict)
                or envelope.get("success") is False):
            raise self._failure(method, path, response)
        return envelope

    # -- paths -----------------------------------------------------------------------------

    async def account_id(self) -> str:
        """``CLOUDFLARE_ACCOUNT_ID``, else the only account of ``GET /memberships``."""
        if self._account is None:
            envelope = await self._call("GET", "/memberships", params={"page": 1, "per_page": 50})
            accounts: dict[str, str] = {}
            for item in envelope.get("result") or []:
                account = item.get("account") if isinstance(item, dict) else None
                if isinstance(account, dict) and isinstance(account.get("id"), str):
                    accounts[account["id"]] = str(account.get("name", ""))
            if not accounts:
                raise RemoteSetupError(
                    "Failed to automatically retrieve account IDs for the logged in user.\n"
                    "In a non-interactive environment, it is mandatory to specify an account ID, "
                    "either by assigning its value to CLOUDFLARE_ACCOUNT_ID, or as account_id in "
                    "your Wrangler configuration file."
                )
            if len(accounts) > 1:
                listed = "\n".join(f"  `{name}`: `{aid}`" for aid, name in accounts.items())
                raise RemoteSetupError(
                    "More than one account available but unable to select one in non-interactive "
                    "mode.\nPlease set the appropriate `account_id` in your Wrangler configuration "
                    "file or assign it to the `CLOUDFLARE_ACCOUNT_ID` environment variable.\n"
                    f"Available accounts are (`<name>`: `<account_id>`):\n{listed}"
                )
            self._account = next(iter(accounts))
        return self._account

    async def _namespaces(self) -> str:
        return f"/accounts/{_segment(await self.account_id())}/storage/kv/namespaces"

    async def _namespace(self, namespace_id: str) -> str:
        return f"{await self._namespaces()}/{_segment(namespace_id)}"

    async def _info(self, item: Any) -> NamespaceInfo:
        return NamespaceInfo(str(item["id"]), str(item["title"]), await self.account_id())

    # -- namespaces ------------------------------------------------------------------------

    async def create_namespace(self, title: str) -> NamespaceInfo:
        try:
            envelope = await self._call("POST", await self._namespaces(), body={"title": title},
                                        idempotent=False)
        except ApiRequestFailed as exc:
            if _TITLE_EXISTS in exc.codes:
                raise NamespaceTitleExists(title) from None
            raise
        return await self._info(envelope["result"])

    async def list_namespaces(self) -> list[NamespaceInfo]:
        path = await self._namespaces()
        found: list[NamespaceInfo] = []
        page = 1
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"per_page": 1000, "order": "title", "direction": "asc"}
            if page > 1:
                params["page"] = page
            result = (await self._call("GET", path, params=params)).get("result") or []
            fresh = [item for item in result if str(item.get("id")) not in seen]
            if not fresh:  # an empty page ends the list (or a server that ignores `page`)
                return found
            for item in fresh:
                seen.add(str(item.get("id")))
                found.append(await self._info(item))
            page += 1

    async def rename_namespace(self, namespace_id: str, title: str) -> None:
        await self._call("PUT", await self._namespace(namespace_id), body={"title": title})

    async def delete_namespace(self, namespace_id: str) -> None:
        await self._call("DELETE", await self._namespace(namespace_id))

    # -- keys ------------------------------------------------------------------------------

    async def value_url(self, namespace_id: str, key: str) -> str:
        return f"{self.base_url}{await self._namespace(namespace_id)}/values/{_segment(key)}"

    async def put(self, namespace_id: str, key: str, value: bytes | str, *,
                  expiration: int | None = None, expiration_ttl: int | None = None,
                  metadata: Any = None) -> None:
        path = f"{await self._namespace(namespace_id)}/values/{_segment(key)}"
        params: dict[str, Any] = {}
        if expiration is not None:
            params["expiration"] = expiration
        if expiration_ttl is not None:
            params["expiration_ttl"] = expiration_ttl
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
        headers: dict[str, str] = {}
        if metadata is not None:
            boundary = f"----formdata-edgekv-{secrets.token_hex(12)}"
            if isinstance(value, str):
                value_head = 'Content-Disposition: form-data; name="value"\r\n\r\n'
            else:
                value_head = ('Content-Disposition: form-data; name="value"; filename="blob"\r\n'
                              "Content-Type: application/octet-stream\r\n\r\n")
            meta = _metadata_text(metadata) or "null"
            content = (f"--{boundary}\r\n{value_head}".encode() + data
                       + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="metadata"'
                         f"\r\n\r\n".encode() + meta.encode("utf-8", "surrogatepass")
                       + f"\r\n--{boundary}--\r\n".encode())
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            content = data
            if isinstance(value, str):
                headers["Content-Type"] = "text/plain;charset=UTF-8"
        response = await self._send("PUT", path, params=params or None, content=content,
                                    headers=headers)
        try:
            ok = response.is_success and response.json().get("success") is not False
        except ValueError:
            ok = False
        if not ok:
            raise self._failure("PUT", path, response)

    async def get(self, namespace_id: str, key: str) -> Record | None:
        path = f"{await self._namespace(namespace_id)}/values/{_segment(key)}"
        response = await self._send("GET", path)
        if response.status_code == 200:
            header = response.headers.get("expiration")
            expiration = int(float(header)) if header else None
            return Record(key, response.content, expiration, None)
        if response.status_code == 404:
            try:
                codes = [e.get("code") for e in response.json().get("errors") or []]
            except (ValueError, AttributeError):
                codes = []
            if _KEY_NOT_FOUND in codes:
                return None
        raise ApiRequestFailed(_fetch_failed(self.base_url + path, response.status_code,
                                             _reason(response)), status=response.status_code)

    async def get_with_metadata(self, namespace_id: str, key: str) -> Record | None:
        found = await self.get(namespace_id, key)
        if found is None:
            return None
        path = f"{await self._namespace(namespace_id)}/metadata/{_segment(key)}"
        try:
            envelope = await self._call("GET", path)
        except ApiRequestFailed as exc:
            if exc.status == 404 and _KEY_NOT_FOUND in exc.codes:
                return None
            raise
        return found._replace(metadata=_metadata_text(envelope.get("result")))

    def missing_value_error(self, namespace_id: str, key: str) -> str | None:
        account = self._account or "<account>"
        return _fetch_failed(f"{self.base_url}/accounts/{_segment(account)}/storage/kv/namespaces/"
                             f"{_segment(namespace_id)}/values/{_segment(key)}", 404, "Not Found")

    async def list_keys(self, namespace_id: str, prefix: str = "") -> AsyncIterator[Record]:
        path = f"{await self._namespace(namespace_id)}/keys"
        cursor: str | None = None
        while True:
            params = {"prefix": prefix}
            if cursor:
                params["cursor"] = cursor
            envelope = await self._call("GET", path, params=params)
            for item in envelope.get("result") or []:
                expiration = item.get("expiration")
                yield Record(str(item["name"]), None,
                             int(expiration) if expiration is not None else None,
                             _metadata_text(item.get("metadata")))
            cursor = (envelope.get("result_info") or {}).get("cursor")
            if not cursor:
                return

    async def delete(self, namespace_id: str, key: str) -> None:
        await self._call("DELETE", f"{await self._namespace(namespace_id)}/values/{_segment(key)}")

    # -- bulk ------------------------------------------------------------------------------

    async def put_bulk(self, namespace_id: str, records: Iterable[Record], *,
                       progress: Progress | None = None) -> int:
        """Spool every item first (so a bad one sends nothing), then send chunks that fit
        under ``bulk_max_items`` and ``bulk_max_bytes``."""
        path = f"{await self._namespace(namespace_id)}/bulk"
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY, mode="w+b") as spool:
            total = 0
            for record in records:
                item = _bulk_item(record)
                if len(item) + 2 > self.bulk_max_bytes:
                    raise ApiRequestFailed(
                        f'The key-value pair "{record.key}" is {len(item) + 2:,} bytes as a bulk '
                        f"request, more than the API's limit of {self.bulk_max_bytes:,} bytes."
                    )
                spool.write(item + b"\n")
                total += 1
            spool.seek(0)
            done = 0
            if progress is not None:
                progress(0, total)
            batch: list[bytes] = []
            size = 2  # the brackets
            for line in spool:
                item = line.rstrip(b"\n")
                if batch and (len(batch) >= self.bulk_max_items
                              or size + 1 + len(item) > self.bulk_max_bytes):
                    await self._put_chunk(path, batch)
                    done += len(batch)
                    if progress is not None:
                        progress(done, total)
                    batch, size = [], 2
                size += len(item) + (1 if batch else 0)
                batch.append(item)
            if batch:
                await self._put_chunk(path, batch)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        return total

    async def _put_chunk(self, path: str, items: list[bytes]) -> None:
        pending = items
        for attempt in range(self.retries + 1):
            envelope = await self._call("PUT", path, body=b"[" + b",".join(pending) + b"]")
            result = envelope.get("result") or {}
            failed = (set(result.get("unsuccessful_keys") or []) if isinstance(result, dict)
                      else set())
            if not failed:
                return
            # The API asks to retry the keys it could not write.
            pending = [item for item in pending if json.loads(item)["key"] in failed]
            if not pending:  # it named keys this request did not send
                return
            if attempt < self.retries:
                await self._sleep(self._retry_delay(None, attempt))
        raise ApiRequestFailed(f"A request to the Cloudflare API ({path}) failed.\n"
                               f"{len(pending)} key(s) could not be written: "
                               + ", ".join(json.loads(i)["key"] for i in pending[:10]))

    async def get_bulk(self, namespace_id: str, keys: list[str]) -> dict[str, bytes | None]:
        path = f"{await self._namespace(namespace_id)}/bulk/get"
        found: dict[str, bytes | None] = {}
        for start in range(0, len(keys), _BULK_GET):
            chunk = keys[start : start + _BULK_GET]
            envelope = await self._call("POST", path, body={"keys": chunk})
            values = (envelope.get("result") or {}).get("values") or {}
            for k in chunk:
                value = values.get(k)
                found[k] = None if value is None else str(value).encode("utf-8", "surrogatepass")
        return found

    async def delete_bulk(self, namespace_id: str, keys: list[str], *,
                          progress: Progress | None = None) -> None:
        for k in keys:
            check_key(k, "DELETE", self.limits)
        path = f"{await self._namespace(namespace_id)}/bulk"
        if progress is not None:
            progress(0, len(keys))
        for start in range(0, len(keys), self.delete_chunk):
            chunk = keys[start : start + self.delete_chunk]
            await self._call("DELETE", path, body=chunk)
            if progress is not None:
                progress(start + len(chunk), len(keys))

    async def export(self, namespace_id: str, prefix: str = "") -> AsyncIterator[Record]:
        """Keys a list page at a time; each page's values read 100 at a time with bulk get,
        and one by one (``concurrency`` in flight) for the values bulk get cannot carry
        exactly (bytes that are not UTF-8 come back with U+FFFD), or when it is refused."""
        page: list[Record] = []
        async for entry in self.list_keys(namespace_id, prefix):
            page.append(entry)
            if len(page) >= 1000:
                for record in await self._fill(namespace_id, page):
                    yield record
                page = []
        for record in await self._fill(namespace_id, page):
            yield record

    async def _texts(self, namespace_id: str, keys: list[str]) -> dict[str, str | None] | None:
        """One bulk read of up to 100 text values; ``None`` when the API refuses it (for
        example a value too large for one reply)."""
        path = f"{await self._namespace(namespace_id)}/bulk/get"
        try:
            envelope = await self._call("POST", path, body={"keys": keys})
        except ApiRequestFailed as exc:
            if exc.status in (400, 413, 414):
                return None
            raise
        values = (envelope.get("result") or {}).get("values")
        if not isinstance(values, dict):
            return None
        return {k: (v if isinstance(v, str) or v is None else None) for k, v in values.items()}

    async def _fill(self, namespace_id: str, entries: list[Record]) -> list[Record]:
        gate = asyncio.Semaphore(self.concurrency)

        async def texts(keys: list[str]) -> dict[str, str | None] | None:
            async with gate:
                return await self._texts(namespace_id, keys)

        keys = [e.key for e in entries]
        batches = await asyncio.gather(*(texts(keys[i : i + _BULK_GET])
                                         for i in range(0, len(keys), _BULK_GET)))
        known: dict[str, str | None] = {}
        unread: set[str] = set()
        for start, batch in zip(range(0, len(keys), _BULK_GET), batches):
            if batch is None:
                unread.update(keys[start : start + _BULK_GET])
            else:
                known.update(batch)

        async def one(entry: Record) -> Record | None:
            text = known.get(entry.key)
            if entry.key not in unread and text is None:
                return None  # deleted or expired since it was listed
            if text is not None and "\ufffd" not in text:
                return Record(entry.key, text.encode("utf-8"), entry.expiration, entry.metadata)
            async with gate:
                found = await self.get(namespace_id, entry.key)
            if found is None:
                return None
            expiration = found.expiration if found.expiration is not None else entry.expiration
            return Record(entry.key, found.value, expiration, entry.metadata)

        return [r for r in await asyncio.gather(*(one(e) for e in entries)) if r is not None]
