"""The pytest plugin (edgekv/testing/plugin.py), exercised through ``pytester`` subprocesses.

Every run uses a temporary project (see conftest.py) and Cloudflare-style test files. The
async situations covered: pytest-asyncio absent (``-p no:asyncio``), in strict mode (its
default) and in auto mode.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.testing.conftest import write

NO_PLUGIN = ("-p", "no:asyncio")
STRICT = ("-o", "asyncio_mode=strict", "-o", "asyncio_default_fixture_loop_scope=function")
AUTO = ("-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function")
ASYNC_MODES = pytest.mark.parametrize("mode", [NO_PLUGIN, STRICT, AUTO],
                                      ids=["no-pytest-asyncio", "strict", "auto"])

CLOUDFLARE_STYLE = """
    import pytest

    async def test_kv_round_trip(env):
        await env.NAMESPACE.put("k", "v")
        assert await env.NAMESPACE.get("k") == "v"

    async def test_kv_written_by_an_earlier_test_is_gone(env):
        assert await env.NAMESPACE.get("k") is None
        assert (await env.NAMESPACE.list())["keys"] == []

    async def test_durable_object_counts(worker):
        assert (await worker.get("/counter/a")).text == "1"
        assert (await worker.get("/counter/a")).text == "2"
        assert (await worker.get("/counter/b")).text == "1"

    async def test_durable_object_storage_is_fresh_per_test(worker, env):
        assert (await worker.get("/counter/a")).text == "1"
        stub = env.COUNTER.getByName("a")
        assert await (await stub.fetch("http://do/")).text() == "2"

    async def test_durable_object_reads_kv_written_through_env(env, worker):
        await env.NAMESPACE.put("someKey", "from the test")
        response = await worker.get("/kv-object")
        assert (response.status_code, response.text) == (200, "from the test")

    async def test_vars_and_dev_vars_secrets(env, worker):
        assert env.MODE == "development"
        assert env.API_TOKEN == "from-dev-vars"
        assert (await worker.get("/secret")).text == "from-dev-vars"

    async def test_expiry_with_the_fake_clock(env, clock):
        await env.NAMESPACE.put("session", "x", expirationTtl=60)
        clock.advance(59)
        assert await env.NAMESPACE.get("session") == "x"
        clock.advance(2)
        assert await env.NAMESPACE.get("session") is None

    async def test_wait_until_work_can_be_drained(worker, env):
        response = await worker.get("/later/job")
        assert response.status_code == 202
        await worker.wait_background()
        assert await env.NAMESPACE.get("job") == "written after the response"

    async def test_workers_module_sees_the_same_env(env):
        import workers
        assert workers.env.NAMESPACE.namespace_id == env.NAMESPACE.namespace_id
        assert await (workers.Response("ok")).text() == "ok"

    @pytest.mark.asyncio
    async def test_marked_the_way_workers_py_tests_are(env):
        await env.NAMESPACE.put("marked", "yes")
        assert await env.NAMESPACE.get("marked") == "yes"

    async def test_runtime_fetch_returns_the_workers_response(edgekv_runtime):
        response = await edgekv_runtime.fetch("http://localhost/mode")
        assert await response.text() == "development"

    async def test_this_one_must_fail(env):
        await env.NAMESPACE.put("k", "v")
        assert await env.NAMESPACE.get("k") == "something else"
"""


@ASYNC_MODES
def test_cloudflare_style_tests_run_in_every_async_setup(
    project: pytest.Pytester, mode: tuple[str, ...]
) -> None:
    write(project.path / "tests" / "test_worker.py", CLOUDFLARE_STYLE)
    result = project.runpytest_subprocess(*mode, "--strict-markers")
    result.assert_outcomes(passed=11, failed=1)
    result.stdout.fnmatch_lines(["*FAILED*test_this_one_must_fail*"])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


@ASYNC_MODES
def test_user_async_fixtures_build_on_env(project: pytest.Pytester, mode: tuple[str, ...]) -> None:
    fixture_decorator = "pytest_asyncio.fixture" if mode == STRICT else "pytest.fixture"
    write(project.path / "conftest.py", f"""
        import pytest
        {"import pytest_asyncio" if mode == STRICT else ""}

        @{fixture_decorator}
        async def seeded(env):
            await env.NAMESPACE.put("to-do:1", "buy milk")
            yield env
            assert await env.NAMESPACE.get("to-do:1") == "buy milk"
    """)
    write(project.path / "tests" / "test_seeded.py", """
        async def test_seeded(seeded, worker):
            assert (await worker.get("/kv/to-do:1")).text == "buy milk"
    """)
    project.runpytest_subprocess(*mode).assert_outcomes(passed=1)


def test_plain_coroutine_tests_run_and_sync_ones_are_left(pytester: pytest.Pytester) -> None:
    """A project without a Worker and without pytest-asyncio: async tests simply run (anyio's
    plugin, asyncio backend); a sync test's async fixture runs too."""
    write(pytester.path / "test_plain.py", """
        import asyncio
        import contextvars
        import sniffio
        import pytest

        var = contextvars.ContextVar("var")

        @pytest.fixture
        async def value():
            var.set("from the fixture")
            await asyncio.sleep(0)
            return 41

        def test_sync():
            assert True

        def test_sync_with_an_async_fixture(value):
            assert value == 41

        async def test_async(value):
            await asyncio.sleep(0)
            assert value + 1 == 42
            assert var.get() == "from the fixture"  # same context as the fixture
            assert sniffio.current_async_library() == "asyncio"

        async def test_async_failure():
            assert await asyncio.sleep(0, result=1) == 2

        class TestMethods:
            @pytest.fixture
            async def method_fixture(self):
                self.seen = "set by the fixture"
                return 1

            async def test_method(self, method_fixture):
                assert (method_fixture, self.seen) == (1, "set by the fixture")
    """)
    result = pytester.runpytest_subprocess(*NO_PLUGIN, "-v")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.no_fnmatch_line("*trio*")  # one run per test, on asyncio only


def test_wider_scoped_async_fixtures_share_their_loop(pytester: pytest.Pytester) -> None:
    """anyio keeps a loop alive while a module-scoped async fixture holds it: the module's
    tests run on the fixture's loop; the next module starts a fresh one."""
    for name in ("a", "b"):
        write(pytester.path / f"test_scope_{name}.py", """
            import asyncio
            import pytest

            @pytest.fixture(scope="module")
            async def shared():
                lock = asyncio.Lock()  # bound to the loop at first use
                async with lock:
                    pass
                yield lock, asyncio.get_running_loop()

            async def test_one(shared):
                async with shared[0]:
                    assert asyncio.get_running_loop() is shared[1]

            async def test_two(shared):
                async with shared[0]:
                    assert asyncio.get_running_loop() is shared[1]
        """)
    pytester.runpytest_subprocess(*NO_PLUGIN).assert_outcomes(passed=4)


def test_without_anyio_s_plugin_the_reason_is_given(pytester: pytest.Pytester) -> None:
    write(pytester.path / "test_x.py", "async def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess(*NO_PLUGIN, "-p", "no:anyio")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*anyio's pytest plugin, which is not loaded*-p anyio*"])


# Runs pytest as if pytest-asyncio were not installed: its distribution is hidden from the
# entry-point scan and its modules cannot be imported (``-p no:asyncio`` only unloads it).
_UNINSTALLED = """
import importlib.metadata as metadata, sys

_all = metadata.distributions

def distributions(**kwargs):
    for dist in _all(**kwargs):
        if (dist.metadata["Name"] or "").lower().replace("_", "-") != "pytest-asyncio":
            yield dist

metadata.distributions = distributions
sys.modules["pytest_asyncio"] = None
sys.modules["pytest_asyncio.plugin"] = None
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("installed", [True, False], ids=["with-pytest-asyncio", "without"])
def test_a_projects_async_tests_run_with_and_without_pytest_asyncio_installed(
    project: pytest.Pytester, installed: bool
) -> None:
    """The README's promise, in a subprocess: the same sample project's async tests (edgekv
    fixtures, a user's async fixture, the asyncio marker) pass whether pytest-asyncio is
    installed (auto mode) or not."""
    write(project.path / "conftest.py", """
        import pytest

        @pytest.fixture
        async def seeded(env):
            await env.NAMESPACE.put("to-do:1", "buy milk")
            return env
    """)
    write(project.path / "tests" / "test_worker.py", CLOUDFLARE_STYLE + """
    async def test_seeded(seeded, worker):
        assert (await worker.get("/kv/to-do:1")).text == "buy milk"

    def test_which_runner():
        import sys
        assert ("pytest_asyncio" in sys.modules and sys.modules["pytest_asyncio"] is not None) is {installed}
    """.replace("{installed}", str(installed)))
    args = ["-p", "no:cacheprovider", "--strict-markers", "-o", "asyncio_mode=auto",
            "-o", "asyncio_default_fixture_loop_scope=function"]
    command = [sys.executable, "-c", _UNINSTALLED] if not installed else [sys.executable, "-m", "pytest"]
    done = subprocess.run([*command, *args], cwd=project.path, capture_output=True, text=True,
                          timeout=300, check=False)  # one test fails on purpose
    out = done.stdout + done.stderr
    assert "13 passed, 1 failed" in out or "1 failed, 13 passed" in out, out
    assert "test_this_one_must_fail" in out and "INTERNALERROR" not in out


def test_anyio_tests_are_left_to_anyio(project: pytest.Pytester) -> None:
    write(project.path / "tests" / "test_anyio.py", """
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        async def test_with_anyio(env):
            await env.NAMESPACE.put("k", "v")
            assert await env.NAMESPACE.get("k") == "v"
    """)
    project.runpytest_subprocess(*NO_PLUGIN).assert_outcomes(passed=1)


def test_strict_mode_leaves_unrelated_unmarked_coroutines_alone(pytester: pytest.Pytester) -> None:
    """pytest-asyncio's strict mode keeps its meaning for tests that don't use edgekv."""
    write(pytester.path / "test_other.py", """
        async def test_not_ours():
            pass
    """)
    result = pytester.runpytest_subprocess(*STRICT)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])


def test_plugin_imports_nothing_heavy_until_a_fixture_is_used(pytester: pytest.Pytester) -> None:
    write(pytester.path / "test_light.py", """
        import sys

        HEAVY = ("edgekv.runtime", "edgekv.storage", "edgekv.kv", "edgekv.durable_objects",
                 "edgekv.config", "httpx", "uvicorn")

        def test_nothing_heavy_is_imported():
            assert "edgekv.testing.plugin" in sys.modules
            loaded = [name for name in HEAVY if name in sys.modules]
            assert loaded == []
    """)
    for mode in (NO_PLUGIN, STRICT):
        pytester.runpytest_subprocess(*mode).assert_outcomes(passed=1)


def test_importing_the_plugin_module_is_light() -> None:
    code = ("import sys, edgekv.testing.plugin; "
            "print(sorted(m for m in sys.modules if m.startswith(('edgekv.', 'httpx'))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert eval(out) == ["edgekv.clock", "edgekv.limits", "edgekv.testing",
                         "edgekv.testing.plugin"]


def test_options_are_documented_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines([
        "*edgekv*",
        "*--edgekv-config=PATH*",
        "*--edgekv-env=NAME*",
    ])
    for ini in ("edgekv_config", "edgekv_env", "edgekv_storage"):
        result.stdout.fnmatch_lines([f"*{ini} (string)*"])
    markers = pytester.runpytest_subprocess("--markers")
    markers.stdout.fnmatch_lines(["*@pytest.mark.edgekv(config=None, env=None, vars=None*"])


def test_fixtures_are_not_autouse(project: pytest.Pytester) -> None:
    """A test without edgekv fixtures gets no runtime (and no state folder)."""
    write(project.path / "tests" / "test_plain.py", """
        import sys

        def test_plain(tmp_path):
            assert "edgekv.runtime.worker" not in sys.modules
            assert not (tmp_path / "edgekv").exists()
    """)
    project.runpytest_subprocess(*STRICT).assert_outcomes(passed=1)


def test_workers_py_suite_layout(project: pytest.Pytester) -> None:
    """workers-py ``packages/runtime-sdk/tests/bindings-test``: a conftest that imports
    ``workers`` and defines ``env`` as ``workers.env``; tests that never request edgekv's
    fixtures; a module importing the Worker; and ``worker.scheduled``."""
    write(project.path / "tests" / "conftest.py", """
        import pytest
        import workers

        @pytest.fixture
        def env():
            return workers.env
    """)
    write(project.path / "tests" / "test_bindings.py", """
        import pytest
        from workers import env as module_env

        @pytest.mark.asyncio
        async def test_kv_through_conftest_env(env):
            assert env
            await env.NAMESPACE.put("k", "v")
            assert await env.NAMESPACE.get("k") == "v"

        async def test_module_level_workers_env():
            assert await module_env.NAMESPACE.get("missing") is None
    """)
    write(project.path / "tests" / "test_import_after_close.py", """
        async def test_first(worker):
            assert (await worker.get("/counter/a")).text == "1"

        def test_entry_still_importable():
            import importlib, sys
            sys.modules.pop("entry", None)
            assert importlib.import_module("entry").Default
    """)
    project.runpytest_subprocess(*NO_PLUGIN).assert_outcomes(passed=4)


def test_workers_py_assets_tests(pytester: pytest.Pytester) -> None:
    """workers-py ``bindings-test/src/test_assets.py``: ``env.ASSETS`` is the SDK's fetcher
    wrapper; text, JSON, 404 and content type through ``env.ASSETS.fetch(url)``."""
    write(pytester.path / "wrangler.jsonc", """
        {"name": "bindings-test", "main": "src/worker.py",
         "compatibility_date": "2026-07-01", "compatibility_flags": ["python_workers"],
         "assets": {"directory": "./public/", "binding": "ASSETS", "run_worker_first": true}}
    """)
    write(pytester.path / "public" / "hello.txt", "hello from static assets\n")
    write(pytester.path / "public" / "data.json", '{"key": "value", "number": 42}')
    write(pytester.path / "src" / "worker.py", """
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response("worker")
    """)
    write(pytester.path / "src" / "conftest.py", """
        import pytest
        from workers import env as _env

        @pytest.fixture
        def env():
            return _env
    """)
    write(pytester.path / "src" / "test_assets.py", """
        import pytest
        from workers.rpc import _FetcherWrapper

        @pytest.mark.asyncio
        async def test_is_fetcher_wrapper(env):
            assert isinstance(env.ASSETS, _FetcherWrapper)

        @pytest.mark.asyncio
        async def test_fetch_text_file(env):
            resp = await env.ASSETS.fetch("https://assets.local/hello.txt")
            assert (await resp.text()).strip() == "hello from static assets"

        @pytest.mark.asyncio
        async def test_fetch_json_file(env):
            data = await (await env.ASSETS.fetch("https://assets.local/data.json")).json()
            assert (data["key"], data["number"]) == ("value", 42)

        @pytest.mark.asyncio
        async def test_fetch_returns_404_for_missing(env):
            resp = await env.ASSETS.fetch("https://assets.local/nonexistent.txt")
            assert resp.status == 404

        @pytest.mark.asyncio
        async def test_fetch_content_type(env):
            resp = await env.ASSETS.fetch("https://assets.local/data.json")
            assert "application/json" in resp.headers.get("content-type")

        async def test_worker_scheduled_helper(worker):
            with pytest.raises(TypeError, match="scheduled"):
                await worker.scheduled(cron="* * * * *", scheduled_time=1_700_000_000)
    """)
    pytester.runpytest_subprocess(*STRICT, "src").assert_outcomes(passed=6)
