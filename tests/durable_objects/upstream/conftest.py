"""Fixtures for the translated upstream suites: one SQLite-backed namespace run in-process."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from ..conftest import DurableObject, MakeRuntime


class Runner(DurableObject):
    """An object that runs whatever function the test hands it, with its storage."""

    async def run(self, fn: Any) -> Any:
        result = fn(self.ctx)
        return await result if inspect.isawaitable(result) else result


@pytest.fixture
async def in_object(make_runtime: MakeRuntime) -> Any:
    """``await in_object(fn, name="db")``: run ``fn(ctx)`` inside a SQLite-backed object."""
    rt = await make_runtime()
    ns = rt.namespace("DB", Runner, unique_key="w-Runner", sqlite=True)

    host = rt._hosts["w-Runner"]

    async def runner(fn: Any, name: str = "db") -> Any:
        return await host.dispatch(ns.idFromName(name), lambda inst: inst.run(fn))

    runner.rt = rt  # type: ignore[attr-defined]
    runner.ns = ns  # type: ignore[attr-defined]
    return runner
