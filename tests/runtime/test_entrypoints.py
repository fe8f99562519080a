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
