"""``workers.wsgi``: run a Django/Flask (WSGI) app in a Worker (edgekv implementation)."""

from edgekv.runtime.wsgi_app import build_environ, fetch

__all__ = ["build_environ", "fetch"]
