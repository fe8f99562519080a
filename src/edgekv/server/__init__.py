"""ASGI servers around the Worker runtime: today the ``edgekv dev`` gateway.

Modules::

    access    AccessLog: ASGI middleware writing one line per request (method, path, status, ms)
    banner    the "Your Worker has access to the following bindings" table
    watch     which file changes reload the Worker (watchfiles filter)
    dev       DevServer: uvicorn on a bound socket, reload on change, expiry sweep, clean shutdown

The runtime itself (loading the Worker, env, per-request dispatch, error pages) lives in
``edgekv.runtime.worker``; this layer only serves it.
"""

from __future__ import annotations

from edgekv.server.access import AccessLog
from edgekv.server.banner import bindings_table
from edgekv.server.dev import DevServer, display_url, resolve_host

__all__ = ["AccessLog", "DevServer", "bindings_table", "display_url", "resolve_host"]
