"""edgekv's ``pyodide.ffi``: identity conversions (see ``edgekv.runtime.ffi``)."""

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
    "to_js",
]
