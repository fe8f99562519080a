"""edgekv's ``workers`` module: the Cloudflare Python Workers SDK API on CPython.

Thin re-export of ``edgekv.runtime``; installed by ``edgekv.runtime.shims.install()``.
"""

from typing import Any

from edgekv.runtime.context import Context, patch_env, wait_until
from edgekv.runtime.context import env as _env_proxy
from edgekv.runtime.entrypoints import (
    DurableObject,
    WorkerEntrypoint,
    WorkflowEntrypoint,
    handler,
)
from edgekv.runtime.rpc import import_from_javascript, python_from_rpc, python_to_rpc
from edgekv.runtime.sdk_types import Body, FetchKwargs, JSBody, RequestInitCfProperties
from edgekv.runtime.web.blob import Blob, BlobEnding, BlobValue, File
from edgekv.runtime.web.fetch import fetch
from edgekv.runtime.web.formdata import FormData, FormDataValue
from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.response import Response

FetchResponse = Response
waitUntil = wait_until

__all__ = [
    "Blob",
    "BlobEnding",
    "BlobValue",
    "Body",
    "Context",
    "DurableObject",
    "FetchKwargs",
    "FetchResponse",
    "File",
    "FormData",
    "FormDataValue",
    "Headers",
    "JSBody",
    "Request",
    "RequestInitCfProperties",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "env",
    "fetch",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
    "waitUntil",
    "wait_until",
]


def __getattr__(name: str) -> Any:
    # ``env`` is a proxy resolving per access: the current request's env, else the Worker's.
    if name == "env":
        return _env_proxy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
