"""Context (ctx.waitUntil) and the per-request env binding behind workers.env."""

from __future__ import annotations

import asyncio
import logging

import pytest

from edgekv.runtime import context
from edgekv.runtime.context import (
    Context,
    bind,
    bound,
    current_env,
    patch_env,
    set_default_env,
    unbind,
    wait_until,
)
from edgekv.runtime.errors import NoRequestContext
from edgekv.runtime.ffi import create_proxy


async def test_wait_until_starts_now_and_drain_awaits() -> None:
    ctx = Context()
    ran: list[str] = []

    async def job(name: str) -> None:
        ran.append(name)
        await asyncio.sleep(0)
        if name == "second":
            ctx.waitUntil(job("third"))

    ctx.waitUntil(job("first"))
    ctx.wait_until(create_proxy(asyncio.ensure_future(job("second"))))
    await asyncio.sleep(0)
    assert ran == ["first", "second"]  # started without being awaited, like a JS promise
    assert await ctx.drain() == []
    assert ran == ["first", "second", "third"] and ctx.pending == ()


async def test_drain_logs_and_returns_errors(caplog: pytest.LogCaptureFixture) -> None:
    ctx = Context()

    async def boom() -> None:
        raise ValueError("nope")

    ctx.waitUntil(boom())
    with caplog.at_level(logging.ERROR, logger="edgekv.runtime"):
        errors = await ctx.drain()
    assert [type(e) for e in errors] == [ValueError]
    assert "waitUntil" in caplog.text


async def test_drain_timeout_cancels() -> None:
    ctx = Context()
    ctx.waitUntil(asyncio.sleep(10))
    errors = await ctx.drain(timeout_seconds=0.01)
    assert [type(e) for e in errors] == [TimeoutError]


def test_wait_until_rejects_non_awaitable() -> None:
    async def inner() -> None:
        with pytest.raises(TypeError):
            Context().waitUntil(42)  # type: ignore[arg-type]

    asyncio.run(inner())


def test_pass_through_on_exception() -> None:
    ctx = Context()
    assert not ctx.pass_through
    ctx.passThroughOnException()
    assert ctx.pass_through


async def test_module_level_wait_until_and_env_follow_the_binding() -> None:
    with pytest.raises(NoRequestContext):
        wait_until(asyncio.sleep(0))
    ctx = Context()
    token = bind({"K": 1}, ctx)
    try:
        assert current_env() == {"K": 1}
        wait_until(asyncio.sleep(0))
        assert len(ctx.pending) == 1
    finally:
        unbind(token)
    await ctx.drain()


def test_default_env_and_patch_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "_default_env", context._UNSET)
    with pytest.raises(NoRequestContext):
        current_env()

    class Env:
        A = "a"
        B = "b"

    set_default_env(Env())
    assert current_env().A == "a"
    with bound(Env(), None), patch_env({"A": "patched"}, C="c"):
        env = current_env()
        assert (env.A, env.B, env.C) == ("patched", "b", "c")
        assert env["C"] == "c" and "B" in env
    assert not hasattr(current_env(), "C")
