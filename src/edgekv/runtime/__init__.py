"""The Worker runtime: a Worker's lifecycle on CPython, over the Web platform types.

Three parts, each importing only downward (tests/test_architecture.py, docs/architecture.md)::

    web/           the Web platform types: Request, Response, Headers, Blob, FormData, fetch,
                   WebSocket, HTMLRewriter, and the WorkerResources a runtime owns
    (this folder)  the Worker lifecycle:
      loader         import the Worker fresh, find its entrypoints
      entrypoints    WorkerEntrypoint, DurableObject, WorkflowEntrypoint, @handler
      env            build env: KV, Durable Objects, D1, Workflows, vars, secrets
      context        Context (ctx.waitUntil), the per-request env/ctx binding, patch_env
      worker         WorkerRuntime: one loaded Worker served as an ASGI app; events
      asgi_server    ASGI, server side: a server's request in, the Response out
      asgi_app       ASGI, app side: run a FastAPI/Starlette app inside a Worker (workers.asgi)
      wsgi_app       WSGI, app side: run a Flask/Django app inside a Worker (workers.wsgi)
      assets, d1, workflows, rpc, dependencies, tracebacks, tracing
      blocking       pyodide.ffi.run_sync: synchronous Worker code awaits on the request's loop
      ffi, jsglobals, sdk_types  what the shims re-export (pyodide.ffi, js, workers types)
    shims/         the importable ``workers``/``js``/``pyodide``/``asgi`` modules + install()

Importing this package is cheap; nothing here imports httpx until a Worker fetches.
"""

from __future__ import annotations

from edgekv.runtime.context import Context, bind, bound, set_default_env, unbind
from edgekv.runtime.entrypoints import DurableObject, WorkerEntrypoint, WorkflowEntrypoint
from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.response import Response

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
