"""Type names from the SDK's ``__all__`` that only describe shapes (for annotations)."""

from __future__ import annotations

from collections.abc import AsyncIterable
from http import HTTPMethod
from typing import Any, TypeAlias, TypedDict

from edgekv.runtime.web.blob import Blob
from edgekv.runtime.web.formdata import FormData
from edgekv.runtime.web.headers import Headers

__all__ = ["Body", "FetchKwargs", "JSBody", "RequestInitCfProperties"]

JSBody: TypeAlias = "Blob | bytes | FormData | AsyncIterable[bytes]"
Body: TypeAlias = "str | bytes | FormData | Blob | AsyncIterable[bytes] | None"


class RequestInitCfProperties(TypedDict, total=False):
    """Cloudflare's ``cf`` request options; accepted and ignored by edgekv's ``fetch``."""

    apps: bool | None
    cacheEverything: bool | None
    cacheKey: str | None
    cacheTags: list[str] | None
    cacheTtl: int
    cacheTtlByStatus: dict[str, int]
    image: Any | None
    mirage: bool | None
    polish: str | None
    resolveOverride: str | None
    scrapeShield: bool | None
    webp: bool | None


class FetchKwargs(TypedDict, total=False):
    """Keyword options of ``workers.fetch`` and ``workers.Request``."""

    headers: Headers | dict[str, str] | list[tuple[str, str]] | None
    body: Body
    method: HTTPMethod | str | None
    redirect: str | None
    cf: RequestInitCfProperties | None
    fetcher: Any
