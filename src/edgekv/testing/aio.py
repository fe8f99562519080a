"""Running ``async def`` tests and fixtures, with or without pytest-asyncio.

Two small plugins; :mod:`edgekv.testing.plugin` registers one of them at configure time:

- :class:`BuiltinRunner`, when pytest-asyncio is not active: every coroutine test that no
  other plugin runs (anyio's ``anyio_backend`` tests, pytest-trio's ``trio`` tests are left
  alone) runs on a fresh event loop (``asyncio.Runner``) per test, and function-scoped async
  fixtures of that test run on the same loop and in the same ``contextvars`` context, so a
  fixture's tasks, locks and stores are usable in the test. The loop closes after the test's
  teardown. Wider-scoped async fixtures need pytest-asyncio: they fail with that advice.
- :class:`AsyncioStrictBridge`, when pytest-asyncio is active: in its strict mode an
  unmarked ``async def test_x(env)`` would not run, so a test that uses an edgekv fixture
  gets the ``asyncio`` marker (auto mode marks every coroutine test anyway). edgekv's own
  async fixtures are declared with ``pytest_asyncio.fixture`` in that case, so they share
  the test's loop in both modes.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Generator
from typing import Any

import pytest

__all__ = ["EDGEKV_FIXTURE_ATTR", "AsyncioStrictBridge", "BuiltinRunner", "uses_edgekv"]

#: Set on edgekv's fixture functions, so the plugin can tell a test that uses them.
EDGEKV_FIXTURE_ATTR = "_edgekv_fixture"

_LOOP = pytest.StashKey[tuple[asyncio.Runner, contextvars.Context]]()


def _is_async(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def _foreign(node: pytest.Item, fixturenames: Any) -> bool:
    """Whether another async plugin owns this test (anyio, pytest-trio)."""
    return "anyio_backend" in fixturenames or node.get_closest_marker("trio") is not None


def uses_edgekv(item: pytest.Function) -> bool:
    """Whether ``item`` requests an edgekv fixture, directly or through other fixtures."""
    for defs in item._fixtureinfo.name2fixturedefs.values():
        if defs and getattr(defs[-1].func, EDGEKV_FIXTURE_ATTR, False):
            return True
    return False


def _loop_of(item: pytest.Item) -> tuple[asyncio.Runner, contextvars.Context]:
    pair = item.stash.get(_LOOP, None)
    if pair is None:
        pair = (asyncio.Runner(), contextvars.copy_context())
        item.stash[_LOOP] = pair
    return pair


class BuiltinRunner:
    """Runs coroutine tests and their function-scoped async fixtures (no pytest-asyncio)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Generator[None, Any, Any]:
        func = fixturedef.func
        if not _is_async(func) or _foreign(request.node, request.fixturenames):
            return (yield)
        if fixturedef.scope != "function":
            pytest.fail(
                f"async fixture {fixturedef.argname!r} has scope {fixturedef.scope!r}: edgekv's "
                "built-in async support runs function-scoped async fixtures only. Install "
                "pytest-asyncio for wider scopes.",
                pytrace=False,
            )
        original_argnames = fixturedef.argnames
        has_request = "request" in original_argnames
        if not has_request:
            fixturedef.argnames = (*original_argnames, "request")
        fixturedef.func = _synchronized(func, has_request)
        try:
            return (yield)
        finally:
            fixturedef.func = func
            fixturedef.argnames = original_argnames

    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        # No tryfirst/trylast: pytest's own implementation (trylast) would reject coroutines,
        # anyio's (tryfirst) has already run its tests; plugins registered later go first.
        func = pyfuncitem.obj
        if not inspect.iscoroutinefunction(func) or _foreign(pyfuncitem, pyfuncitem.fixturenames):
            return None
        runner, context = _loop_of(pyfuncitem)
        funcargs = pyfuncitem.funcargs
        arguments = {name: funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        runner.run(func(**arguments), context=context)
        return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, Any, Any]:
        try:
            return (yield)  # function-scoped fixtures are finalized in here, on the loop
        finally:
            pair = item.stash.get(_LOOP, None)
            if pair is not None:
                del item.stash[_LOOP]
                pair[0].close()


def _synchronized(func: Callable[..., Any], keep_request: bool) -> Callable[..., Any]:
    """A sync stand-in for the async fixture ``func`` running on its test's loop."""

    def bind(kwargs: dict[str, Any]) -> tuple[Any, asyncio.Runner, contextvars.Context]:
        request = kwargs["request"] if keep_request else kwargs.pop("request")
        runner, context = _loop_of(request.node)
        target = func
        instance = request.instance
        if instance is not None and inspect.ismethod(func) and type(func.__self__) is type(
            instance
        ):
            target = func.__func__.__get__(instance)  # a fixture method of the test's class
        return target, runner, context

    if inspect.isasyncgenfunction(func):

        def asyncgen_fixture(**kwargs: Any) -> Generator[Any, None, None]:
            target, runner, context = bind(kwargs)
            agen = target(**kwargs)
            value = runner.run(agen.__anext__(), context=context)
            yield value
            try:
                runner.run(agen.__anext__(), context=context)
            except StopAsyncIteration:
                return
            runner.run(agen.aclose(), context=context)
            raise ValueError(f"async fixture {func.__name__!r} yielded more than once")

        return asyncgen_fixture

    def coroutine_fixture(**kwargs: Any) -> Any:
        target, runner, context = bind(kwargs)
        return runner.run(target(**kwargs), context=context)

    return coroutine_fixture


class AsyncioStrictBridge:
    """With pytest-asyncio in strict mode, mark unmarked coroutine tests using edgekv."""

    # trylast makes this wrapper the innermost one: it edits the items before
    # pytest-asyncio's own wrapper turns asyncio-marked ones into its item class.
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_pycollect_makeitem(
        self, collector: Any, name: str, obj: object
    ) -> Generator[None, Any, Any]:
        result = yield
        items = result if isinstance(result, list) else [result]
        for item in items:
            if (
                isinstance(item, pytest.Function)
                and inspect.iscoroutinefunction(item.obj)
                and item.get_closest_marker("asyncio") is None
                and not _foreign(item, item.fixturenames)
                and uses_edgekv(item)
            ):
                item.add_marker(pytest.mark.asyncio)
        return result
