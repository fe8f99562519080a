"""edgekv's ``pyodide.ffi``: identity conversions (see ``edgekv.runtime.ffi``) and
``run_sync`` (see ``edgekv.runtime.blocking``)."""

from edgekv.runtime.blocking import run_sync
from edgekv.runtime.ffi import (
    JsBuffer,
    JsException,
    JsNull,
    JsProxy,
    create_once_callable,
    create_proxy,
    destroy_proxies,
    jsnull,
    to_js,
)

__all__ = [
    "JsBuffer",
    "JsException",
    "JsNull",
    "JsProxy",
    "create_once_callable",
    "create_proxy",
    "destroy_proxies",
    "jsnull",
    "run_sync",
    "to_js",
]
