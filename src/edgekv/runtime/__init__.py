"""The Worker runtime: the ``workers`` compatibility module on CPython, and its shims.

Modules, one concept each::

    headers        Headers: case-insensitive multi-map (HTTPMessage + JavaScript APIs)
    blob, formdata Blob/File, FormData and the multipart/urlencoded wire formats
    body           the read-once body shared by Request and Response
    request        Request (with Request.from_asgi for the dev server)
    response       Response (json/redirect constructors)
    http           facade of the above + request_from_asgi / send_response (ASGI bridge)
    context        Context (ctx.waitUntil), the per-request env/ctx binding, patch_env
    entrypoints    WorkerEntrypoint, DurableObject, WorkflowEntrypoint, @handler
    fetch          outbound fetch over httpx
    asgi_adapter   workers.asgi: run a FastAPI/Starlette app for one request
    rpc            python_to_rpc / python_from_rpc / JsDict / import_from_javascript
    ffi            pyodide.ffi stand-ins (to_js, JsProxy, jsnull, create_proxy)
    blocking       pyodide.ffi.run_sync: synchronous Worker code awaits on the request's loop
    jsglobals      the ``js`` module's globals (Response.new, console, Object, JSON ...)
    shims          the importable ``workers``/``js``/``pyodide``/``asgi`` modules + install()

Importing this package is cheap; nothing here imports httpx until a Worker fetches.
"""

from __future__ import annotations

from edgekv.runtime.context import Context, bind, bound, set_default_env, unbind
from edgekv.runtime.entrypoints import DurableObject, WorkerEntrypoint, WorkflowEntrypoint
from edgekv.runtime.headers import Headers
from edgekv.runtime.request import Request
from edgekv.runtime.response import Response

__all__ = [
    "Context",
    "DurableObject",
    "Headers",
    "Request",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "bind",
    "bound",
    "set_default_env",
    "unbind",
]
