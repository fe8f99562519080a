"""WorkerRuntime end to end, in process: httpx ASGITransport into runtime.asgi_app."""

from __future__ import annotations

import asyncio
import logging
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgekv.clock import FakeClock
from edgekv.config import load_config
from edgekv.runtime.loader import WorkerLoadError, WorkerSetupError
from edgekv.runtime.worker import NOT_A_RESPONSE, WorkerRuntime

TOML = """\
name = "w"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "KV", id = "kv-id" }]
"""

OpenWorker = Callable[..., Awaitable[WorkerRuntime]]


def write_project(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
async def open_worker(tmp_path: Path) -> AsyncIterator[OpenWorker]:
    """``await open_worker(entry_source, toml=TOML, files=None, **open_kwargs)``."""
    opened: list[WorkerRuntime] = []

    async def factory(entry: str, *, toml: str = TOML, files: dict[str, str] | None = None,
                      **kwargs: Any) -> WorkerRuntime:
        write_project(tmp_path, {"wrangler.toml": toml, "src/entry.py": entry, **(files or {})})
        kwargs.setdefault("store_url", "memory://")
        kwargs.setdefault("clock", FakeClock())
        runtime = await WorkerRuntime.open(load_config(tmp_path), **kwargs)
        opened.append(runtime)
        return runtime

    yield factory
    for runtime in opened:
        await runtime.close()


def client(runtime: WorkerRuntime) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=runtime.asgi_app)
    return httpx.AsyncClient(transport=transport, base_url="http://worker.test")


async def test_class_entrypoint_reads_kv(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response(await self.env.KV.get("k"))
    """)
    await runtime.env.KV.put("k", "hello")
    async with client(runtime) as http:
        response = await http.get("/")
    assert response.status_code == 200
    assert response.text == "hello"
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"


async def test_missing_key_gives_empty_body(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response(await self.env.KV.get("absent"))
    """)
    async with client(runtime) as http:
        response = await http.get("/")
    assert (response.status_code, response.content) == (200, b"")


async def test_default_is_constructed_per_request_with_ctx_and_env(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from workers import Response, WorkerEntrypoint

        instances = []

        class Default(WorkerEntrypoint):
            def __init__(self, ctx, env):
                super().__init__(ctx, env)
                instances.append(self)

            async def fetch(self, request):
                return Response(f"{len(instances)} {request.method} {request.url}")
    """)
    async with client(runtime) as http:
        first = await http.get("/a?x=1")
        second = await http.post("/b", content=b"body")
    assert first.text == "1 GET http://worker.test/a?x=1"
    assert second.text == "2 POST http://worker.test/b"
    assert runtime.worker is not None
    instances = runtime.worker.module.instances
    assert instances[0] is not instances[1]
    assert instances[0].env is runtime.env


async def test_fetch_without_request_parameter(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self):
                return Response("relaxed")
    """)
    async with client(runtime) as http:
        assert (await http.get("/")).text == "relaxed"


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("request", "GET none none"),
        ("request, env", "GET v none"),
        ("request, env, ctx", "GET v ctx"),
    ],
)
async def test_legacy_on_fetch_gets_as_many_args_as_it_takes(
    open_worker: OpenWorker, signature: str, expected: str
) -> None:
    runtime = await open_worker(f"""
        from workers import Response

        async def on_fetch({signature}):
            env = locals().get("env")
            ctx = locals().get("ctx")
            value = env.GREETING if env is not None else "none"
            has_ctx = "ctx" if ctx is not None and hasattr(ctx, "waitUntil") else "none"
            return Response(f"{{request.method}} {{value}} {{has_ctx}}")
    """, toml=TOML + '[vars]\nGREETING = "v"\n')
    async with client(runtime) as http:
        assert (await http.get("/")).text == expected


async def test_legacy_js_style_response(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from js import Response

        def on_fetch(request, env):
            return Response.new("old style", status=201)
    """)
    async with client(runtime) as http:
        response = await http.get("/")
    assert (response.status_code, response.text) == (201, "old style")


async def test_sibling_modules_import_without_src_prefix(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from helpers import greet
        from lib.names import NAME
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response(greet(NAME))
    """, files={
        "src/helpers.py": "def greet(name):\n    return f'hello {name}'\n",
        "src/lib/__init__.py": "",
        "src/lib/names.py": "NAME = 'sibling'\n",
    })
    async with client(runtime) as http:
        assert (await http.get("/")).text == "hello sibling"


async def test_import_error_page_then_fixed_file_after_reload(
    open_worker: OpenWorker, tmp_path: Path
) -> None:
    runtime = await open_worker("""
        from workers import Response, WorkerEntrypoint

        def broken():
            raise RuntimeError("boom <at> import")

        broken()
    """, tolerate_load_errors=True)
    assert isinstance(runtime.load_error, WorkerLoadError)
    await runtime.env.KV.put("kept", "still here")
    async with client(runtime) as http:
        response = await http.get("/", headers={"Accept": "text/html"})
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        assert "RuntimeError: boom &lt;at&gt; import" in page
        assert "entry.py" in page and "broken()" in page
        assert "edgekv/runtime" not in page and "importlib" not in page

        (tmp_path / "src/entry.py").write_text(textwrap.dedent("""
            from workers import Response, WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    return Response(await self.env.KV.get("kept"))
        """))
        assert await runtime.reload() is None
        response = await http.get("/")
    assert (response.status_code, response.text) == (200, "still here")


async def test_open_raises_load_error_by_default(open_worker: OpenWorker) -> None:
    with pytest.raises(WorkerLoadError) as info:
        await open_worker("import no_such_module_here\n")
    assert "ModuleNotFoundError" in info.value.traceback_text
    assert "no_such_module_here" in info.value.traceback_text


async def test_setup_errors(open_worker: OpenWorker) -> None:
    with pytest.raises(WorkerSetupError, match="must be a .py file"):
        await open_worker("", toml=TOML.replace("src/entry.py", "src/index.js"))
    with pytest.raises(WorkerSetupError, match="was not found"):
        await open_worker("", toml=TOML.replace("src/entry.py", "src/missing.py"))


async def test_reload_reimports_sibling_modules(open_worker: OpenWorker, tmp_path: Path) -> None:
    runtime = await open_worker("""
        import version
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response(version.V)
    """, files={"src/version.py": "V = 'one'\n"})
    async with client(runtime) as http:
        assert (await http.get("/")).text == "one"
        (tmp_path / "src/version.py").write_text("V = 'two'\n")  # same size, same second
        await runtime.reload()
        assert (await http.get("/")).text == "two"


async def test_uncaught_exception_answers_500_page_and_logs(
    open_worker: OpenWorker, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = await open_worker("""
        from workers import WorkerEntrypoint

        def helper(path):
            raise ValueError(f"bad path <{path}>")

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return helper("/x")
    """)
    caplog.set_level(logging.ERROR, logger="edgekv.runtime")
    async with client(runtime) as http:
        response = await http.get("/x", headers={"Accept": "text/html,application/xhtml+xml"})
        plain = await http.get("/x")  # curl and fetch() ask for */*: the traceback as text
    assert plain.status_code == 500 and plain.headers["content-type"].startswith("text/plain")
    assert plain.text.startswith('ValueError: bad path </x>\n\nTraceback')
    assert 'helper("/x")' in plain.text and "edgekv/runtime/worker.py" not in plain.text
    assert response.status_code == 500
    assert "ValueError: bad path &lt;/x&gt;" in response.text
    assert "helper(&quot;/x&quot;)" in response.text or "helper(\"/x\")" in response.text
    assert "edgekv/runtime/worker.py" not in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Uncaught exception in GET /x" in logged
    assert "ValueError: bad path </x>" in logged

    with pytest.raises(ValueError, match="bad path"):
        await runtime.fetch("http://worker.test/x")


async def test_non_response_return_is_a_type_error(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from workers import WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return "plain string"
    """)
    with pytest.raises(TypeError, match="did not resolve to 'Response'"):
        await runtime.fetch("http://worker.test/")
    async with client(runtime) as http:
        response = await http.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert NOT_A_RESPONSE.replace("'", "&#x27;") in response.text


async def test_no_fetch_handler(open_worker: OpenWorker) -> None:
    runtime = await open_worker("X = 1\n")
    with pytest.raises(TypeError, match=r"Handler does not export a fetch\(\) function"):
        await runtime.fetch("http://worker.test/")


async def test_wait_until_runs_after_the_response_and_errors_are_logged(
    open_worker: OpenWorker, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = await open_worker("""
        import asyncio
        from workers import Response, WorkerEntrypoint

        events = []

        async def later(env):
            await asyncio.sleep(0.01)
            await env.KV.put("written-later", "yes")
            events.append("background done")

        async def failing():
            raise RuntimeError("background failure")

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                self.ctx.waitUntil(later(self.env))
                self.ctx.waitUntil(failing())
                self.ctx.passThroughOnException()
                events.append("responded")
                return Response("ok")
    """)
    caplog.set_level(logging.ERROR, logger="edgekv.runtime")
    async with client(runtime) as http:
        response = await http.get("/")
    assert response.text == "ok"
    assert runtime.worker is not None
    events = runtime.worker.module.events
    assert events == ["responded"]  # the response went out before the background work ended
    assert await runtime.env.KV.get("written-later") is None
    await runtime.wait_background(timeout_seconds=5)
    assert events == ["responded", "background done"]
    assert await runtime.env.KV.get("written-later") == "yes"
    failures = [r for r in caplog.records if "waitUntil" in r.getMessage()]
    assert failures and "background failure" in str(failures[0].exc_info[1])


async def test_module_level_workers_env_and_wait_until(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from workers import Response, WorkerEntrypoint, env, wait_until

        AT_IMPORT = env.GREETING

        async def noop():
            return None

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                wait_until(noop())
                return Response(f"{AT_IMPORT} {env.GREETING}")
    """, toml=TOML + '[vars]\nGREETING = "hi"\n')
    async with client(runtime) as http:
        assert (await http.get("/")).text == "hi hi"


async def test_head_request_and_request_body(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                if request.method == "POST":
                    data = await request.json()
                    return Response.json({"got": data})
                return Response("body for get")
    """)
    async with client(runtime) as http:
        head = await http.head("/")
        post = await http.post("/", json={"a": 1})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len("body for get"))
    assert post.json() == {"got": {"a": 1}}


async def test_close_is_idempotent_and_evicts_modules(open_worker: OpenWorker) -> None:
    import sys

    runtime = await open_worker("""
        import uniquely_named_sibling
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response("x")
    """, files={"src/uniquely_named_sibling.py": "X = 1\n"})
    assert "uniquely_named_sibling" in sys.modules
    await runtime.close()
    await runtime.close()
    assert "uniquely_named_sibling" not in sys.modules
    assert runtime.closed


async def test_concurrent_requests(open_worker: OpenWorker) -> None:
    runtime = await open_worker("""
        import asyncio
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                await asyncio.sleep(0.01)
                return Response(request.url.rsplit("/", 1)[1])
    """)
    async with client(runtime) as http:
        responses = await asyncio.gather(*(http.get(f"/{i}") for i in range(50)))
    assert [r.text for r in responses] == [str(i) for i in range(50)]
