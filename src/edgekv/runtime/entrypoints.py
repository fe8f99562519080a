"""Base classes a Worker module subclasses, and the legacy ``@handler`` decorator.

On Cloudflare these classes wrap ``env`` and ``ctx`` in constructors to convert JavaScript
values. On edgekv every value is already Python, so they are plain bases: the constructor is
``(ctx, env)`` and sets ``self.ctx`` and ``self.env``. Subclasses that define their own
``__init__(self, ctx, env)`` receive the same two arguments.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "DurableObject",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "call_relaxed",
    "handler",
    "takes_all",
]

F = TypeVar("F", bound=Callable[..., Any])


class _Entrypoint:
    """Shared ``(ctx, env)`` constructor."""

    ctx: Any
    env: Any

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class WorkerEntrypoint(_Entrypoint):
    """Base of a Worker's ``Default`` class and of named entrypoints (service-binding RPC).

    ``fetch(self, request)``, ``scheduled(self, controller, env, ctx)`` and
    ``queue(self, batch, env, ctx)`` are the handlers the runtime calls; other public methods
    are RPC methods.
    """


class DurableObject(_Entrypoint):
    """Base of a Durable Object class; ``ctx`` is the object's state (``ctx.storage`` ...)."""


class WorkflowEntrypoint(_Entrypoint):
    """Base of a Workflow class; the runtime calls ``run(self, event, step)``."""


def handler(func: F) -> F:
    """Legacy ``@workers.handler`` for module-level ``on_fetch`` & co.

    On Cloudflare it wraps raw JavaScript ``request``/``env`` values in Python ones. edgekv
    passes Python objects already, so the function is returned unchanged (marked with
    ``__workers_handler__ = True`` for tooling).
    """
    try:
        func.__workers_handler__ = True  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    return func


@functools.lru_cache(maxsize=1024)
def _positional_limit(func: Callable[..., Any]) -> int | None:
    """How many positional arguments ``func`` accepts (``None``: unlimited)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            return None
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def takes_all(func: Callable[..., Any], count: int) -> bool:
    """Whether :func:`call_relaxed` passes ``count`` positional arguments to plain function
    ``func`` unchanged (so a caller that checked this once may call ``func`` directly)."""
    limit = _positional_limit(func)
    return limit is None or limit >= count


def call_relaxed(func: Callable[..., Any], *args: Any) -> Any:
    """Call ``func`` with as many of ``args`` as it accepts, dropping the surplus.

    This is how workerd calls ``fetch(self, request)`` and legacy ``on_fetch(request, env,
    ctx)`` (Pyodide's ``relaxed_call``): ``async def fetch(self)`` and ``on_fetch(request)``
    both work. The signature lookup is cached per function, so the hot path stays cheap.
    """
    target = getattr(func, "__func__", func)
    limit = _positional_limit(target)
    if limit is not None and hasattr(func, "__self__") and target is not func:
        limit -= 1  # a bound method's ``self`` is already supplied
    if limit is None or limit >= len(args):
        return func(*args)
    return func(*args[:limit])
