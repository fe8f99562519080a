"""The data explorer: a page to see and edit KV and Durable Object data in a browser.

Modules::

    app      ExplorerApp: the page's assets and the explorer API, as one ASGI app
    kv       counts, descending pages, previews, bulk upload/download of KV namespaces
    objects  Durable Object namespaces, objects, storage, SQL, alarms (admin only)
    counts   KeyCounts: key counts computed off the event loop and cached
    static/  index.html, explorer.js, explorer.css (package data; no build step)

docs/explorer.md describes the page and its API.
"""

from __future__ import annotations

from edgekv.server.explorer.app import EXPLORER_PREFIX, ExplorerApp

__all__ = ["EXPLORER_PREFIX", "ExplorerApp"]
