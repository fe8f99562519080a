"""The ASGI types, declared once (as Starlette's ``types.py``): every ASGI bridge uses these.

``Scope`` is the connection scope, ``Message`` one event dict, ``Receive``/``Send`` the two
channels, ``ASGIApp`` an application. Standard library only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
