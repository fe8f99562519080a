"""The edgekv pytest plugin, registered through the ``pytest11`` entry point.

Testing your Worker
===================

Installing edgekv gives pytest fixtures that run your Worker in process, with the bindings of
your ``wrangler.toml`` (or ``wrangler.json``/``.jsonc``) and fresh storage for every test.
Write tests in Cloudflare's in-Worker style; nothing needs configuring::

    # tests/test_worker.py
    async def test_kv_round_trip(env):
        await env.TODO.put("to-do:1", "buy milk")
        assert await env.TODO.get("to-do:1") == "buy milk"

    async def test_home_page(worker):
        response = await worker.get("/")
        assert response.status_code == 200

    async def test_keys_expire(env, clock):
        await env.TODO.put("session", "x", expirationTtl=60)
        clock.advance(61)
        assert await env.TODO.get("session") is None

Fixtures (all function-scoped; none is autouse):

- ``env``: the Worker's ``env`` (KV namespaces, Durable Object namespaces, ``vars``,
  ``.dev.vars`` secrets), as ``self.env`` inside the Worker. While it is open, ``workers.env``
  is the same object.
- ``worker``: an ``httpx.AsyncClient`` (base URL ``http://localhost``) whose requests go
  straight into the Worker's ``fetch``, like vitest's ``SELF``. ``await
  worker.wait_background()`` waits for ``ctx.waitUntil`` work; ``await
  worker.scheduled(cron="*/5 * * * *", scheduled_time=...)`` runs ``scheduled()`` once.
- ``clock`` (alias of ``fake_clock``): an ``edgekv.clock.FakeClock`` starting at the current
  second. Requesting it makes the test's runtime use it, so ``clock.advance(61)`` expires keys
  without sleeping. Tests that don't request it use the real clock.
- ``edgekv_runtime``: the ``edgekv.runtime.worker.WorkerRuntime`` behind ``env`` and
  ``worker`` (``.fetch(url)`` returns the Worker's own ``Response``; ``.worker`` holds its
  classes). ``edgekv_runtime_factory``: ``await edgekv_runtime_factory(vars=..., env=...,
  limits=..., config=...)`` opens another one. ``edgekv_config``: the loaded wrangler config.

Cloudflare's in-Worker suites (workers-py) run as they are: the shims are installed before
the first ``conftest.py`` loads (so it may ``import workers``), and a test that reaches
``workers.env`` without requesting ``env`` (its conftest defines ``env`` as
``workers.env``, or its module imports ``workers`` or ``env`` from it) gets the project's
runtime set up for it.

Each test gets its own SQLite files under its ``tmp_path`` (as ``edgekv dev`` stores them, so a
failed test's data can be inspected there); KV and Durable Object storage never leak between
tests. Set ``edgekv_storage = memory`` for in-memory KV instead.

The project is found like wrangler finds it, from the test file's folder upward (then from
pytest's rootdir). To choose explicitly::

    [tool.pytest.ini_options]
    edgekv_config = "worker/wrangler.toml"   # a file, or a folder to search from
    edgekv_env = "staging"                   # a wrangler environment ([env.staging])

or ``pytest --edgekv-config PATH --edgekv-env NAME``, or per test / module
``@pytest.mark.edgekv(env="staging", vars={"MODE": "test"}, limits="testing")``.

``async def`` tests run without further setup: with pytest-asyncio installed (either mode)
edgekv's fixtures run on its event loop; without it, anyio's pytest plugin runs coroutine
tests and async fixtures (of any scope) on its asyncio backend, a fresh event loop per test
(``edgekv.testing.async_tests``). Tests marked ``@pytest.mark.trio`` are left to pytest-trio.

Importing this module imports neither the runtime nor httpx: they load when a test first uses
an edgekv fixture.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_load_initial_conftests",
]

_PYTEST_ASYNCIO = "pytest_asyncio.plugin"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("edgekv", "edgekv: run Cloudflare Python Workers under test")
    group.addoption(
        "--edgekv-config", dest="edgekv_config", metavar="PATH", default=None,
        help="wrangler.toml/.json/.jsonc (or a folder to search upward from) for edgekv's "
             "fixtures; default: found from each test file's folder upward, then the rootdir.",
    )
    group.addoption(
        "--edgekv-env", dest="edgekv_env", metavar="NAME", default=None,
        help="wrangler environment ([env.NAME]) for edgekv's fixtures; default: the "
             "edgekv_env ini option, else CLOUDFLARE_ENV.",
    )
    group.addoption(
        "--edgekv-strict", dest="edgekv_strict", action="store_true", default=False,
        help="Strict mode: warn (StrictModeWarning) about what would fail on Cloudflare's "
             "Python Workers: native imports Pyodide lacks, threads, subprocesses, blocking "
             "calls, CPU or memory over the limits, randomness or time at import.",
    )
    parser.addini(
        "edgekv_config",
        "wrangler config file (or folder to search from) for edgekv's fixtures, relative to "
        "the ini file; --edgekv-config wins.",
        default="",
    )
    parser.addini(
        "edgekv_env",
        "wrangler environment for edgekv's fixtures; --edgekv-env wins.",
        default="",
    )
    parser.addini(
        "edgekv_storage",
        "where edgekv's fixtures keep KV data per test: 'sqlite' (default; files in the "
        "test's tmp_path, as edgekv dev) or 'memory'.",
        default="sqlite",
    )


def _pytest_asyncio_active(config: pytest.Config) -> bool:
    return any(
        getattr(plugin, "__name__", None) == _PYTEST_ASYNCIO
        for plugin in config.pluginmanager.get_plugins()
    )


def pytest_configure(config: pytest.Config) -> None:
    from edgekv.testing import async_tests, fixtures

    config.addinivalue_line(
        "markers",
        "edgekv(config=None, env=None, vars=None, limits=None): project, wrangler "
        "environment, var overrides and limits ('testing', 'default' or a Limits) for "
        "edgekv's fixtures in this test.",
    )
    async_fixture: Any
    if _pytest_asyncio_active(config):
        import pytest_asyncio

        async_fixture = pytest_asyncio.fixture
        config.pluginmanager.register(async_tests.AsyncioStrictBridge(), "edgekv-asyncio-bridge")
    else:
        async_fixture = pytest.fixture
        if not config.pluginmanager.has_plugin("anyio"):
            raise pytest.UsageError(
                "edgekv runs async tests through anyio's pytest plugin, which is not loaded "
                "(PYTEST_DISABLE_PLUGIN_AUTOLOAD? add -p anyio), or install pytest-asyncio.")
        config.pluginmanager.register(async_tests.AnyioAsyncio(), "edgekv-async-anyio")
        # Cloudflare's in-Worker tests are marked @pytest.mark.asyncio; keep --strict-markers
        # happy when pytest-asyncio is absent (anyio runs them).
        config.addinivalue_line(
            "markers", "asyncio: run this coroutine test on an event loop (anyio's asyncio backend)"
        )
    config.pluginmanager.register(fixtures.build(async_fixture), "edgekv-fixtures")
    _shims_for_python_workers(config)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: Any) -> None:
    """Install the shims before the first ``conftest.py`` imports ``workers``.

    Options are not parsed yet: the known ones are copied from the early parse (the full
    parse overwrites them later). Any problem is left for ``pytest_configure`` to meet again.
    """
    known = getattr(early_config, "known_args_namespace", None)
    for name in ("edgekv_config", "edgekv_env"):
        if not hasattr(early_config.option, name):
            setattr(early_config.option, name, getattr(known, name, None))
    try:
        _shims_for_python_workers(early_config)
    except Exception:  # noqa: BLE001 - reported by pytest_configure / the fixtures
        return


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Give ``workers.env`` a Worker in tests that reach it without requesting ``env``.

    workers-py's in-Worker suites define ``env`` in their own ``conftest.py`` as
    ``workers.env``, or import ``env`` from ``workers``: such tests get the project's
    runtime (``edgekv_runtime``) set up for them, so ``workers.env`` is the Worker's env.
    """
    for item in items:
        names = getattr(item, "fixturenames", None)
        if names is None or "edgekv_runtime" in names:
            continue
        if _reaches_workers_env(item):
            names.append("edgekv_runtime")


def _reaches_workers_env(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.get("env") if info is not None else None
    if defs and not getattr(defs[-1].func, "_edgekv_fixture", False):  # async_tests.EDGEKV_FIXTURE_ATTR
        return True  # a user's own env fixture (typically ``return workers.env``)
    module = getattr(item, "module", None)
    if module is None or "workers" not in sys.modules:
        return False
    shim = sys.modules["workers"]
    return any(value is shim or value is getattr(shim, "env", None)
               for value in vars(module).values())


def _shims_for_python_workers(config: pytest.Config) -> None:
    """Let test modules import the Worker's code while they are collected.

    Test modules often import the Worker (``from src.entry import Default``), which imports
    ``workers`` and its sibling modules at the top. So, for a Python Worker project only (its
    wrangler config, found as the fixtures find it, names the ``python_workers`` flag), the
    shims are installed and the entry point's folder goes first on ``sys.path``, as on
    Cloudflare. Suites without such a project are untouched.
    """
    root = Path(config.rootpath)
    named = config.getoption("edgekv_config") or config.getini("edgekv_config")
    if not named and not any(
        (folder / name).is_file()
        for folder in (root, *root.parents)
        for name in ("wrangler.json", "wrangler.jsonc", "wrangler.toml")
    ):
        return  # no project: import nothing (the plugin stays free for other suites)
    from edgekv.testing.project import choose_project

    try:
        choice = choose_project(config, root, {})
    except pytest.fail.Exception:  # the fixtures report a bad --edgekv-config when used
        return
    try:
        is_python_worker = choice.path is not None and "python_workers" in choice.path.read_text(
            "utf-8")
    except OSError:
        return
    if not is_python_worker:
        return
    from edgekv.config import load_config
    from edgekv.errors import ConfigError
    from edgekv.runtime import shims

    shims.install()
    try:  # sibling modules of the entry point import by bare name, as on Cloudflare
        main = load_config(choice.path, env=choice.env).main_path
    except ConfigError:  # reported by the fixtures, with the whole diagnostic
        return
    if main is not None and str(main.parent) not in sys.path:
        sys.path.insert(0, str(main.parent))
