"""Which plugin runs ``async def`` tests and fixtures: with or without pytest-asyncio.

edgekv runs no event loop of its own for tests; :mod:`edgekv.testing.plugin` registers one
of two small plugins at configure time, each handing the work to a maintained runner:

- :class:`AnyioAsyncio`, when pytest-asyncio is not active: anyio's pytest plugin (anyio
  comes with httpx, and pytest loads its plugin by entry point) runs every coroutine test
  that no other plugin owns (``@pytest.mark.trio`` tests and tests that already use
  ``anyio_backend`` are left alone), on its ``asyncio`` backend. This plugin only marks
  such tests ``anyio``, gives every test whose fixtures include an async one the
  ``anyio_backend`` fixture (so a sync test's async fixtures run too), and supplies that
  fixture as session-scoped ``"asyncio"`` (a project's own ``anyio_backend`` wins). anyio
  runs a test and its async fixtures in one task on one loop (``contextvars`` set in a
  fixture are seen by the test); the loop lives as long as some async fixture holds it, so
  each test gets a fresh loop unless a wider-scoped async fixture keeps one, which anyio
  supports for any scope.
- :class:`AsyncioStrictBridge`, when pytest-asyncio is active: in its strict mode an
  unmarked ``async def test_x(env)`` would not run, so a test that uses an edgekv fixture
  gets the ``asyncio`` marker (auto mode marks every coroutine test anyway). edgekv's own
  async fixtures are declared with ``pytest_asyncio.fixture`` in that case, so they share
  the test's loop in both modes.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from typing import Any

import pytest

__all__ = ["EDGEKV_FIXTURE_ATTR", "AnyioAsyncio", "AsyncioStrictBridge", "uses_edgekv"]

#: Set on edgekv's fixture functions, so the plugin can tell a test that uses them.
EDGEKV_FIXTURE_ATTR = "_edgekv_fixture"

_BACKEND = "anyio_backend"


def _is_async(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def _foreign(node: pytest.Item, fixturenames: Any) -> bool:
    """Whether another async plugin owns this test (anyio already, pytest-trio)."""
    return _BACKEND in fixturenames or node.get_closest_marker("trio") is not None


def uses_edgekv(item: pytest.Function) -> bool:
    """Whether ``item`` requests an edgekv fixture, directly or through other fixtures."""
    for defs in item._fixtureinfo.name2fixturedefs.values():
        if defs and getattr(defs[-1].func, EDGEKV_FIXTURE_ATTR, False):
            return True
    return False


def _has_async_fixture(item: pytest.Function) -> bool:
    return any(defs and _is_async(defs[-1].func)
               for defs in item._fixtureinfo.name2fixturedefs.values())


class AnyioAsyncio:
    """Hands coroutine tests, and the async fixtures of any test, to anyio's plugin on its
    asyncio backend (no pytest-asyncio)."""

    @pytest.fixture(scope="session")
    @classmethod
    def anyio_backend(cls) -> str:
        """asyncio: the loop Python Workers' code is written for. Session scope, so async
        fixtures of any scope can ask for it."""
        return "asyncio"

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Runs before anyio's pytest_collection_finish, which would otherwise parametrize
        # anyio-marked tests over every installed backend.
        for item in items:
            if not isinstance(item, pytest.Function) or _foreign(item, item.fixturenames):
                continue
            coroutine = inspect.iscoroutinefunction(item.obj)
            if coroutine:
                item.add_marker(pytest.mark.anyio)
            if coroutine or _has_async_fixture(item):
                item.fixturenames.append(_BACKEND)


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
