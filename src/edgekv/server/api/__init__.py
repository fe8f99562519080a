"""Cloudflare's v4 Workers KV REST API (``edgekv serve``, and ``edgekv dev`` under
``/cdn-cgi/edgekv/client/v4``).

Modules::

    app         KVApi: the ASGI app, its routes and error handling
    access      credentials -> Access (tokens, global keys; open in dev)
    context     ApiContext: store, registry, limits; shared checks
    envelope    Cloudflare's envelope, error codes, ApiError
    namespaces  namespace endpoints        values  keys, values, metadata
    bulk        bulk write / delete / get   identity  /user, /accounts, /memberships
    multipart   multipart/form-data value writes    openapi  the OpenAPI document
    asgi        the parsed request, body reading, replies
"""

from __future__ import annotations

from edgekv.server.api.access import OPEN_ACCESS, Access, Authenticator
from edgekv.server.api.app import KVApi
from edgekv.server.api.context import DEFAULT_MAX_BODY_BYTES, ApiContext

__all__ = ["DEFAULT_MAX_BODY_BYTES", "OPEN_ACCESS", "Access", "ApiContext", "Authenticator", "KVApi"]
