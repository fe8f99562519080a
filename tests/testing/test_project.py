"""Which project the fixtures load (edgekv/testing/project.py): discovery, ini and CLI options,
the ``edgekv`` marker, environments, and clear failures for broken configs and Workers."""

from __future__ import annotations

import pytest

from tests.testing.conftest import write

STRICT = ("-o", "asyncio_mode=strict", "-o", "asyncio_default_fixture_loop_scope=function")

TWO_WORKERS = {
    "alpha/wrangler.toml": """
        name = "alpha"
        main = "src/entry.py"
        compatibility_date = "2026-11-01"
        compatibility_flags = ["python_workers"]
        kv_namespaces = [{ binding = "ALPHA", id = "aaaa0000aaaa0000aaaa0000aaaa0000" }]

        [vars]
        WHO = "alpha"

        [env.staging.vars]
        WHO = "alpha-staging"
    """,
    "beta/wrangler.toml": """
        name = "beta"
        main = "src/entry.py"
        compatibility_date = "2026-11-01"
        compatibility_flags = ["python_workers"]
        kv_namespaces = [{ binding = "BETA", id = "bbbb0000bbbb0000bbbb0000bbbb0000" }]

        [vars]
        WHO = "beta"
    """,
}

WHO_WORKER = """
    from workers import Response, WorkerEntrypoint

    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            return Response(self.env.WHO)
"""

ASKS_WHO = """
    import os

    async def test_who(env, worker):
        assert env.WHO == os.environ["EXPECTED_WHO"]
        assert (await worker.get("/")).text == os.environ["EXPECTED_WHO"]
"""


@pytest.fixture
def two_workers(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Two Worker projects in sub-folders and a test at the top that asks which one it got."""
    monkeypatch.delenv("CLOUDFLARE_ENV", raising=False)
    for name, text in TWO_WORKERS.items():
        write(pytester.path / name, text)
        write(pytester.path / name.replace("wrangler.toml", "src/entry.py"), WHO_WORKER)
    write(pytester.path / "test_who.py", ASKS_WHO)
    return pytester


def expect(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, who: str,
           *args: str) -> None:
    monkeypatch.setenv("EXPECTED_WHO", who)
    result = pytester.runpytest_subprocess(*STRICT, *args)
    result.assert_outcomes(passed=1)


def test_config_found_from_the_test_files_folder_upward(
    two_workers: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(two_workers.path / "beta" / "tests" / "test_who.py", ASKS_WHO)
    (two_workers.path / "test_who.py").unlink()
    expect(two_workers, monkeypatch, "beta")


def test_ini_option_chooses_the_project(
    two_workers: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_workers.makeini("[pytest]\nedgekv_config = alpha/wrangler.toml\n")
    expect(two_workers, monkeypatch, "alpha")


def test_ini_option_may_name_a_folder(
    two_workers: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_workers.makepyprojecttoml('[tool.pytest.ini_options]\nedgekv_config = "beta"\n')
    expect(two_workers, monkeypatch, "beta")


def test_cli_option_wins_over_the_ini_option(
    two_workers: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_workers.makeini("[pytest]\nedgekv_config = alpha/wrangler.toml\n")
    expect(two_workers, monkeypatch, "beta", "--edgekv-config", "beta/wrangler.toml")


def test_environment_from_ini_and_cli(
    two_workers: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_workers.makeini("[pytest]\nedgekv_config = alpha\nedgekv_env = staging\n")
    expect(two_workers, monkeypatch, "alpha-staging")
    two_workers.makeini("[pytest]\nedgekv_config = alpha\n")
    expect(two_workers, monkeypatch, "alpha-staging", "--edgekv-env", "staging")
    monkeypatch.setenv("CLOUDFLARE_ENV", "staging")  # as wrangler reads it
    expect(two_workers, monkeypatch, "alpha-staging")


def test_marker_chooses_config_env_and_vars(
    two_workers: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_workers.makeini("[pytest]\nedgekv_config = beta\n")
    write(two_workers.path / "test_who.py", """
        import pytest

        pytestmark = pytest.mark.edgekv(config="alpha")

        async def test_module_marker(env):
            assert env.WHO == "alpha"

        @pytest.mark.edgekv(env="staging")
        async def test_env_marker(env):
            assert env.WHO == "alpha-staging"

        @pytest.mark.edgekv(vars={"WHO": "overridden"})
        async def test_vars_marker(env, worker):
            assert (await worker.get("/")).text == "overridden"
    """)
    two_workers.runpytest_subprocess(*STRICT, "--strict-markers").assert_outcomes(passed=3)


def test_runtime_factory_opens_runtimes_with_overrides(two_workers: pytest.Pytester) -> None:
    write(two_workers.path / "test_who.py", """
        async def test_factory(edgekv_runtime_factory):
            alpha = await edgekv_runtime_factory(config="alpha", vars={"WHO": "custom"})
            assert (await (await alpha.fetch("http://localhost/")).text()) == "custom"
            await alpha.env.ALPHA.put("k", "v")
            beta = await edgekv_runtime_factory(config="beta/wrangler.toml")
            assert beta.env.WHO == "beta"
            assert not hasattr(beta.env, "ALPHA")
    """)
    two_workers.runpytest_subprocess(*STRICT).assert_outcomes(passed=1)


def test_testing_limits_marker(project: pytest.Pytester) -> None:
    write(project.path / "test_limits.py", """
        import pytest

        @pytest.mark.edgekv(limits="testing")
        async def test_small_values_only(env):
            with pytest.raises(Exception, match="Value length of 1025 exceeds limit of 1024"):
                await env.NAMESPACE.put("big", "x" * 1025)

        async def test_default_limits(env):
            await env.NAMESPACE.put("big", "x" * 1025)
    """)
    project.runpytest_subprocess(*STRICT).assert_outcomes(passed=2)


def test_memory_storage_option(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nedgekv_storage = memory\n")
    write(project.path / "test_memory.py", """
        async def test_memory(env, edgekv_runtime, tmp_path):
            await env.NAMESPACE.put("k", "v")
            assert await env.NAMESPACE.get("k") == "v"
            assert not (tmp_path / "edgekv" / "kv.sqlite3").exists()

        async def test_isolated(env):
            assert await env.NAMESPACE.get("k") is None
    """)
    project.runpytest_subprocess(*STRICT).assert_outcomes(passed=2)


def test_sqlite_state_stays_in_tmp_path(project: pytest.Pytester) -> None:
    write(project.path / "test_state.py", """
        async def test_state(env, tmp_path):
            await env.NAMESPACE.put("k", "v")
            assert list((tmp_path / "edgekv").glob("*.sqlite3"))
    """)
    project.runpytest_subprocess(*STRICT).assert_outcomes(passed=1)
    assert not (project.path / ".edgekv").exists()  # the project's dev state is untouched


def test_broken_config_fails_clearly(project: pytest.Pytester) -> None:
    (project.path / "wrangler.toml").write_text('name = "broken\n', encoding="utf-8")
    write(project.path / "test_broken.py", """
        async def test_uses_env(env):
            pass

        def test_unrelated():
            pass
    """)
    result = project.runpytest_subprocess(*STRICT)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*edgekv: cannot use*wrangler.toml*"])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    result.stdout.no_fnmatch_line("*Traceback*")


def test_unknown_environment_or_missing_file_fails_clearly(project: pytest.Pytester) -> None:
    write(project.path / "test_env.py", """
        async def test_uses_env(env):
            pass
    """)
    result = project.runpytest_subprocess(*STRICT, "--edgekv-config", "nowhere/wrangler.toml")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*edgekv: cannot use*nowhere*--edgekv-config*",
                                 "*does not exist*"])


def test_no_config_at_all_fails_with_advice(pytester: pytest.Pytester) -> None:
    write(pytester.path / "test_none.py", """
        async def test_uses_env(env):
            pass
    """)
    result = pytester.runpytest_subprocess(*STRICT)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*edgekv: no wrangler configuration found*edgekv_config*"])


def test_worker_that_fails_to_import_fails_clearly(project: pytest.Pytester) -> None:
    write(project.path / "src" / "entry.py", """
        from workers import WorkerEntrypoint

        raise RuntimeError("boom at import")
    """)
    write(project.path / "test_load.py", """
        async def test_uses_worker(worker):
            pass
    """)
    result = project.runpytest_subprocess(*STRICT)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*edgekv: the Worker failed to load*", "*entry.py*",
                                 "*RuntimeError: boom at import*"])


def test_test_modules_can_import_the_worker_code(project: pytest.Pytester) -> None:
    """``workers`` resolves while test modules are collected, so they can import the Worker."""
    write(project.path / "tests" / "test_direct.py", """
        from src.entry import Default
        from workers import Response, WorkerEntrypoint

        def test_imports():
            assert issubclass(Default, WorkerEntrypoint)
            assert Response("x").status == 200
    """)
    project.runpytest_subprocess(*STRICT).assert_outcomes(passed=1)
