"""Entrypoint base classes and @handler."""

from __future__ import annotations

from typing import Any

from edgekv.runtime.entrypoints import (
    DurableObject,
    WorkerEntrypoint,
    WorkflowEntrypoint,
    handler,
)


def test_base_classes_take_ctx_then_env() -> None:
    for base in (WorkerEntrypoint, DurableObject, WorkflowEntrypoint):
        obj = base("ctx", "env")
        assert (obj.ctx, obj.env) == ("ctx", "env")


def test_subclass_with_own_init_receives_ctx_env() -> None:
    class Counter(DurableObject):
        def __init__(self, state: Any, env: Any) -> None:
            super().__init__(state, env)
            self.count = 0

    counter = Counter("state", "env")
    assert (counter.ctx, counter.env, counter.count) == ("state", "env", 0)


def test_handler_returns_the_function() -> None:
    def on_fetch(request: Any) -> str:
        return "ok"

    assert handler(on_fetch) is on_fetch
    assert on_fetch.__workers_handler__ is True  # type: ignore[attr-defined]


async def test_call_relaxed_drops_surplus_arguments() -> None:
    from edgekv.runtime.entrypoints import call_relaxed

    class Default(WorkerEntrypoint):
        async def fetch(self) -> str:
            return "no-request"

    class Full(WorkerEntrypoint):
        async def fetch(self, request: Any) -> Any:
            return request

    def on_fetch(request: Any, env: Any) -> tuple[Any, Any]:
        return request, env

    def anything(*args: Any) -> int:
        return len(args)

    assert await call_relaxed(Default(None, None).fetch, "req") == "no-request"
    assert await call_relaxed(Full(None, None).fetch, "req", "extra") == "req"
    assert call_relaxed(on_fetch, "r", "e", "ctx") == ("r", "e")
    assert call_relaxed(anything, 1, 2, 3) == 3
