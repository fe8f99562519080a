"""The fixtures of the edgekv pytest plugin (documented in :mod:`edgekv.testing.plugin`).

:func:`build` makes a fresh plugin object holding them, given the decorator for async
fixtures (``pytest_asyncio.fixture`` when pytest-asyncio is active, else ``pytest.fixture``
with edgekv's built-in runner). The Worker runtime, httpx and the stores are imported inside
the fixtures, when a test first uses one.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from edgekv.testing.async_tests import EDGEKV_FIXTURE_ATTR
from edgekv.testing.project import ProjectChoice, choose_project, load_project, marker_options

if TYPE_CHECKING:
    from edgekv.clock import Clock, FakeClock
    from edgekv.config import Config
    from edgekv.limits import Limits
    from edgekv.runtime.env import Env
    from edgekv.runtime.worker import WorkerRuntime
    from edgekv.testing.client import WorkerClient

__all__ = ["STORAGE_CHOICES", "build"]

#: Values of the ``edgekv_storage`` ini option.
STORAGE_CHOICES = ("sqlite", "memory")

RuntimeFactory = Callable[..., Awaitable["WorkerRuntime"]]


#: The strict mode watching each runtime opened with ``--edgekv-strict``.
STRICT: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

def _limits(value: Any) -> Limits:
    from edgekv.limits import DEFAULT_LIMITS, TESTING_LIMITS, Limits

    if value is None or value == "default":
        return DEFAULT_LIMITS
    if value == "testing":
        return TESTING_LIMITS
    if isinstance(value, Limits):
        return value
    pytest.fail(f"edgekv: limits must be an edgekv.limits.Limits, 'default' or 'testing', "
                f"not {value!r}", pytrace=False)


def _storage(config: pytest.Config) -> str:
    value = (config.getini("edgekv_storage") or "sqlite").strip().lower()
    if value not in STORAGE_CHOICES:
        pytest.fail(f"edgekv: edgekv_storage must be one of {', '.join(STORAGE_CHOICES)}, "
                    f"not {value!r}", pytrace=False)
    return value


def _choice(request: pytest.FixtureRequest, marks: dict[str, Any]) -> ProjectChoice:
    return choose_project(request.config, Path(request.path).parent, marks)


def build(async_fixture: Callable[[Any], Any]) -> ModuleType:
    """A plugin object (a module) with fresh fixture functions; register it with pytest."""

    def ours(func: Any) -> Any:
        setattr(func, EDGEKV_FIXTURE_ATTR, True)
        return func

    @pytest.fixture
    @ours
    def edgekv_config(request: pytest.FixtureRequest) -> Config:
        """The project's wrangler ``Config`` (see the plugin docs for how it is found)."""
        return load_project(request.config, _choice(request, marker_options(request.node)))

    @pytest.fixture
    @ours
    def fake_clock() -> FakeClock:
        """A ``FakeClock`` starting at the current whole second; the runtime of this test
        uses it (expiry, ``cacheTtl``, alarms) instead of the real clock."""
        from edgekv.clock import FakeClock

        return FakeClock(float(int(time.time())))

    @pytest.fixture
    @ours
    def clock(fake_clock: FakeClock) -> FakeClock:
        """Alias of ``fake_clock``: ``clock.advance(61)`` expires a 60 s ``expirationTtl``."""
        return fake_clock

    @pytest.fixture
    @ours
    def edgekv_clock(request: pytest.FixtureRequest) -> Clock:
        """The clock given to the runtime: ``fake_clock`` when the test uses it, else real."""
        if "fake_clock" in request.fixturenames:
            return request.getfixturevalue("fake_clock")  # type: ignore[no-any-return]
        from edgekv.clock import SYSTEM_CLOCK

        return SYSTEM_CLOCK

    @async_fixture
    @ours
    async def edgekv_runtime_factory(
        request: pytest.FixtureRequest, tmp_path: Path, edgekv_clock: Clock
    ) -> AsyncIterator[RuntimeFactory]:
        """``await edgekv_runtime_factory(config=None, env=None, vars=None, limits=None,
        clock=None)``: open another ``WorkerRuntime`` with fresh storage; closed after the
        test. ``config`` is a ``Config`` or a path; omitted arguments come from the
        ``edgekv`` marker and the options."""
        from edgekv.config import Config
        from edgekv.runtime.loader import WorkerLoadError, WorkerSetupError
        from edgekv.runtime.worker import WorkerRuntime

        opened: list[WorkerRuntime] = []
        storage = _storage(request.config)
        marks = marker_options(request.node)

        async def open_runtime(
            *,
            config: Config | str | Path | None = None,
            env: str | None = None,
            vars: dict[str, Any] | None = None,
            limits: Any = None,
            clock: Clock | None = None,
        ) -> WorkerRuntime:
            if not isinstance(config, Config):
                wanted = dict(marks)
                if config is not None:
                    wanted["config"] = config
                if env is not None:
                    wanted["env"] = env
                config = load_project(request.config, _choice(request, wanted))
            state = tmp_path / ("edgekv" if not opened else f"edgekv-{len(opened) + 1}")
            if storage == "memory":
                urls: dict[str, Any] = {"store_url": "memory://", "state_dir": state}
            else:
                paths = config.state_paths(state)
                urls = {"store_url": paths.kv_url, "do_store_url": paths.do_url,
                        "state_dir": paths.root}
            checker = None
            if request.config.getoption("edgekv_strict", False):
                from edgekv.strict import StrictMode, StrictReporter

                checker = StrictMode.for_config(config, reporter=StrictReporter(as_warnings=True))
                checkers.append(checker)
            try:
                with checker.importing() if checker is not None else contextlib.nullcontext():
                    runtime = await WorkerRuntime.open(
                        config,
                        clock=clock or edgekv_clock,
                        vars_override=marks.get("vars") if vars is None else vars,
                        limits=_limits(marks.get("limits") if limits is None else limits),
                        **urls,
                    )
            except WorkerLoadError as exc:
                pytest.fail(f"edgekv: the Worker failed to load:\n{exc.traceback_text}",
                            pytrace=False)
            except WorkerSetupError as exc:
                pytest.fail(f"edgekv: {exc}", pytrace=False)
            opened.append(runtime)
            if checker is not None:
                checker.attach(runtime)
                STRICT[runtime] = checker
            return runtime

        checkers: list[Any] = []
        try:
            yield open_runtime
        finally:
            for runtime in reversed(opened):
                await runtime.close()
            for checker in checkers:
                checker.close()

    @async_fixture
    @ours
    async def edgekv_runtime(edgekv_runtime_factory: RuntimeFactory) -> WorkerRuntime:
        """The project's ``WorkerRuntime``, with storage of its own for this test."""
        return await edgekv_runtime_factory()

    @pytest.fixture
    @ours
    def env(edgekv_runtime: WorkerRuntime) -> Env:
        """The Worker's ``env``: KV namespaces, Durable Object namespaces, vars, secrets."""
        return edgekv_runtime.env

    @async_fixture
    @ours
    async def worker(edgekv_runtime: WorkerRuntime) -> AsyncIterator[WorkerClient]:
        """An ``httpx.AsyncClient`` calling the Worker in process (base URL
        ``http://localhost``), plus ``await worker.wait_background()``."""
        from edgekv.testing.client import WorkerClient

        checker = STRICT.get(edgekv_runtime)
        app = checker.wrap(edgekv_runtime.asgi_app) if checker is not None else None
        async with WorkerClient(edgekv_runtime, app=app) as client:
            yield client

    plugin = ModuleType("edgekv.testing.fixtures.built")
    for fixture in (edgekv_config, fake_clock, clock, edgekv_clock, edgekv_runtime_factory,
                    edgekv_runtime, env, worker):
        setattr(plugin, fixture.__name__, fixture)
    return plugin
