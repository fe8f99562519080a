"""Errors raised by the Worker runtime layer.

::

    EdgeKVError (edgekv.errors)
    └── RuntimeShimError                  the CPython runtime cannot do what the Worker asked
        ├── NoRequestContext (RuntimeError) ``wait_until``/``env`` used outside a request
        └── UnsupportedJavaScriptModule (ImportError)
                                          ``import_from_javascript`` of a module edgekv lacks

Where the Cloudflare SDK raises a built-in exception (``TypeError`` for a bad ``Response``
body, ``OSError("Body already used")``, ``ValueError`` for JavaScript ``RangeError``), edgekv
raises the same built-in class with the same text instead of one of these.
"""

from __future__ import annotations

from edgekv.errors import EdgeKVError

__all__ = ["NoRequestContext", "RuntimeShimError", "UnsupportedJavaScriptModule"]


class RuntimeShimError(EdgeKVError):
    """Root of the runtime layer's own errors."""


class NoRequestContext(RuntimeShimError, RuntimeError):
    """A per-request facility (``wait_until``, ``env``) was used with no Worker bound."""


class UnsupportedJavaScriptModule(RuntimeShimError, ImportError):
    """``import_from_javascript`` named a JavaScript module that has no CPython equivalent."""

    def __init__(self, module_name: str, available: tuple[str, ...]) -> None:
        super().__init__(
            f"Failed to import {module_name!r}: edgekv runs Workers on CPython and provides "
            f"only these JavaScript modules: {', '.join(available)}"
        )
        self.module_name = module_name
