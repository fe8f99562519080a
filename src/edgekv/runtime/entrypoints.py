"""Base classes a Worker module subclasses, and the legacy ``@handler`` decorator.

On Cloudflare these classes wrap ``env`` and ``ctx`` in constructors to convert JavaScript
values. On edgekv every value is already Python, so they are plain bases: the constructor is
``(ctx, env)`` and sets ``self.ctx`` and ``self.env``. Subclasses that define their own
``__init__(self, ctx, env)`` receive the same two arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "DurableObject",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "handler",
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
