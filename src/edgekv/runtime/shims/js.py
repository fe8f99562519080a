"""edgekv's ``js`` module: the JavaScript globals legacy Python Workers import."""

from typing import Any

from edgekv.durable_objects.websockets import WebSocketRequestResponsePair
from edgekv.runtime.jsglobals import (
    JSON,
    URL,
    Blob,
    Date,
    File,
    FormData,
    Headers,
    Object,
    Request,
    Response,
    console,
    crypto,
    fetch,
)
from edgekv.runtime.web.htmlrewriter import HTMLRewriter
from edgekv.runtime.web.websocket import WebSocket, WebSocketPair

__all__ = [
    "JSON",
    "URL",
    "Blob",
    "Date",
    "File",
    "FormData",
    "HTMLRewriter",
    "Headers",
    "Object",
    "Request",
    "Response",
    "WebSocket",
    "WebSocketPair",
    "WebSocketRequestResponsePair",
    "console",
    "crypto",
    "fetch",
]


def __getattr__(name: str) -> Any:
    raise AttributeError(
        f"module 'js' has no attribute {name!r}: edgekv runs Workers on CPython and provides "
        f"only these JavaScript globals: {', '.join(__all__)}"
    )
