"""Top-level ``asgi`` module, as the SDK ships it: same API as ``workers.asgi``."""

from typing import Any

from edgekv.runtime.asgi_app import entrypoint, env_dependency, fetch, websocket

__all__ = ["entrypoint", "fetch", "websocket"]


def __getattr__(name: str) -> Any:
    if name == "env":
        return env_dependency()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
