"""RPC value conversion and JavaScript-module access, as seen from CPython.

Cloudflare's SDK converts values crossing the JavaScript boundary. edgekv has no boundary,
so ``python_to_rpc`` only enforces the SDK's refusals (tuples, bytearrays and un-awaited
awaitables cannot be sent, ``TypeError``), and ``python_from_rpc`` normalises legacy values
(``jsnull`` to ``None``, ``JsProxy`` to its Python value, ``dict`` to ``JsDict``).
"""

from __future__ import annotations

import inspect
from typing import Any

from edgekv.js import JsDict
from edgekv.runtime.errors import UnsupportedJavaScriptModule
from edgekv.runtime.ffi import JsNull, JsProxy

__all__ = ["JsDict", "import_from_javascript", "python_from_rpc", "python_to_rpc"]


def _check_sendable(value: Any) -> None:
    if isinstance(value, tuple | bytearray):
        raise TypeError(f"{type(value)} cannot be sent over RPC.")
    if inspect.isawaitable(value):
        raise TypeError(f"Awaitable {type(value)} cannot be sent over RPC.")
    if isinstance(value, dict):
        for item in value.values():
            _check_sendable(item)
    elif isinstance(value, list | set | frozenset):
        for item in value:
            _check_sendable(item)


def python_to_rpc(value: Any) -> Any:
    """Return ``value`` after the SDK's sendability checks (``TypeError`` when refused)."""
    _check_sendable(value)
    return value


def python_from_rpc(value: Any) -> Any:
    """Return a plain-Python view of ``value``: ``None`` for ``jsnull``, ``JsDict`` for dicts."""
    if isinstance(value, JsNull):
        return None
    if isinstance(value, JsProxy):
        value = value.to_py()
    if isinstance(value, dict):
        return JsDict({k: python_from_rpc(v) for k, v in value.items()})
    if isinstance(value, list):
        return [python_from_rpc(v) for v in value]
    return value


class _CloudflareWorkersModule:
    """What ``import_from_javascript("cloudflare:workers")`` returns on edgekv."""

    @property
    def env(self) -> Any:
        from edgekv.runtime.context import env

        return env

    @staticmethod
    def waitUntil(awaitable: Any) -> None:
        from edgekv.runtime.context import wait_until

        wait_until(awaitable)

    @property
    def WorkerEntrypoint(self) -> type:
        from edgekv.runtime.entrypoints import WorkerEntrypoint

        return WorkerEntrypoint

    @property
    def DurableObject(self) -> type:
        from edgekv.runtime.entrypoints import DurableObject

        return DurableObject

    @property
    def WorkflowEntrypoint(self) -> type:
        from edgekv.runtime.entrypoints import WorkflowEntrypoint

        return WorkflowEntrypoint


_JS_MODULES: dict[str, Any] = {"cloudflare:workers": _CloudflareWorkersModule()}


def import_from_javascript(module_name: str) -> Any:
    """Return edgekv's stand-in for a JavaScript module.

    Only ``cloudflare:workers`` (``env``, ``waitUntil`` and the entrypoint classes) exists on
    CPython; any other name raises :class:`UnsupportedJavaScriptModule` (an ``ImportError``)
    whose message names the supported modules.
    """
    try:
        return _JS_MODULES[module_name]
    except KeyError:
        raise UnsupportedJavaScriptModule(module_name, tuple(_JS_MODULES)) from None
