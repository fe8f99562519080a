"""``workers.asgi``: run a FastAPI/Starlette app in a Worker (edgekv implementation)."""

from typing import Any

from edgekv.runtime.asgi_app import entrypoint, env_dependency, fetch, websocket

__all__ = ["entrypoint", "fetch", "websocket"]


def __getattr__(name: str) -> Any:
    if name == "env":  # FastAPI dependency: ``env = Depends(...)`` reading scope["env"]
        return env_dependency()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
