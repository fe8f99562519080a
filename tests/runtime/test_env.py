"""env: KV namespaces (preview_id first), vars, .dev.vars secrets, --var, environments, DOs."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from edgekv.clock import FakeClock
from edgekv.config import load_config
from edgekv.kv import KVNamespace
from edgekv.runtime.env import Env, UnavailableBinding, parse_var
from edgekv.runtime.loader import WorkerLoadError
from edgekv.runtime.worker import WorkerRuntime

ECHO_ENV = """
import json
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        name = request.url.rsplit("/", 1)[1]
        return Response(json.dumps(self.env[name]))
"""

BASE = """\
name = "envtest"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
"""

OpenProject = Callable[..., Awaitable[WorkerRuntime]]


@pytest.fixture
async def open_project(tmp_path: Path) -> AsyncIterator[OpenProject]:
    """``await open_project(toml, entry=ECHO_ENV, files=None, env=None, **open_kwargs)``."""
    opened: list[WorkerRuntime] = []

    async def factory(toml: str, *, entry: str = ECHO_ENV, files: dict[str, str] | None = None,
                      env: str | None = None, **kwargs: Any) -> WorkerRuntime:
        for relative, text in {"wrangler.toml": toml, "src/entry.py": entry,
                               **(files or {})}.items():
            path = tmp_path / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        kwargs.setdefault("store_url", "memory://")
        kwargs.setdefault("clock", FakeClock())
        config = load_config(tmp_path, env=env, cwd=tmp_path, environ={})
        runtime = await WorkerRuntime.open(config, **kwargs)
        opened.append(runtime)
        return runtime

    yield factory
    for runtime in opened:
        await runtime.close()


async def echo(runtime: WorkerRuntime, name: str) -> Any:
    import json

    response = await runtime.fetch(f"http://worker.test/{name}")
    return json.loads(await response.text())


def test_env_access_styles() -> None:
    env = Env({"A": 1, "B": "two"})
    assert env.A == 1 and env["B"] == "two"
    assert "A" in env and "C" not in env
    assert list(env) == ["A", "B"] and len(env) == 2
    assert env.get("C", 3) == 3
    with pytest.raises(AttributeError, match="no binding named 'C'"):
        _ = env.C
    with pytest.raises(KeyError):
        _ = env["C"]
    assert repr(env) == "Env(A, B)"  # names only: never a secret's value


def test_parse_var() -> None:
    assert parse_var("KEY:VALUE") == ("KEY", "VALUE")
    assert parse_var("URL:http://x:1/") == ("URL", "http://x:1/")
    assert parse_var("EMPTY:") == ("EMPTY", "")
    for bad in ("NOCOLON", ":value"):
        with pytest.raises(ValueError, match="KEY:VALUE"):
            parse_var(bad)


async def test_vars_are_python_values(open_project: OpenProject) -> None:
    runtime = await open_project(BASE + textwrap.dedent("""
        [vars]
        GREETING = "hello"
        LIMIT = 10
        FEATURES = { beta = true, tags = ["a", "b"] }
    """))
    assert runtime.env.GREETING == "hello"
    assert runtime.env.LIMIT == 10
    assert runtime.env.FEATURES == {"beta": True, "tags": ["a", "b"]}
    assert await echo(runtime, "FEATURES") == {"beta": True, "tags": ["a", "b"]}


async def test_secrets_override_vars_and_var_flag_overrides_both(
    open_project: OpenProject,
) -> None:
    runtime = await open_project(
        BASE + '[vars]\nAPI_HOST = "example.com"\nTOKEN = "from-vars"\nMODE = "vars"\n',
        files={".dev.vars": "TOKEN=from-dev-vars\nSECRET_ONLY=s3cr3t\n"},
        vars_override={"MODE": "cli"},
    )
    assert await echo(runtime, "API_HOST") == "example.com"
    assert await echo(runtime, "TOKEN") == "from-dev-vars"
    assert await echo(runtime, "SECRET_ONLY") == "s3cr3t"
    assert await echo(runtime, "MODE") == "cli"


async def test_kv_binding_prefers_preview_id(open_project: OpenProject) -> None:
    runtime = await open_project(BASE + textwrap.dedent("""
        kv_namespaces = [
          { binding = "BOTH", id = "prod-id", preview_id = "preview-id" },
          { binding = "ONLY_ID", id = "only-id" },
          { binding = "NO_ID" },
        ]
    """))
    assert isinstance(runtime.env.BOTH, KVNamespace)
    assert runtime.env.BOTH.namespace_id == "preview-id"
    assert runtime.env.ONLY_ID.namespace_id == "only-id"
    assert runtime.env.NO_ID.namespace_id == "NO_ID"
    # One shared store: a write through a namespace of the same id is what the Worker reads.
    await KVNamespace(runtime.kv_store, "preview-id").put("k", "v")
    assert await runtime.env.BOTH.get("k") == "v"
    assert await runtime.env.ONLY_ID.get("k") is None


async def test_environment_selection(open_project: OpenProject) -> None:
    runtime = await open_project(BASE + textwrap.dedent("""
        kv_namespaces = [{ binding = "KV", id = "top-id" }]

        [vars]
        STAGE = "top"

        [env.staging]
        kv_namespaces = [{ binding = "KV", id = "staging-id" }]

        [env.staging.vars]
        STAGE = "staging"
    """), env="staging")
    assert runtime.config.name == "envtest-staging"
    assert await echo(runtime, "STAGE") == "staging"
    assert runtime.env.KV.namespace_id == "staging-id"


DO_TOML = BASE + textwrap.dedent("""
    [[durable_objects.bindings]]
    name = "COUNTER"
    class_name = "Counter"

    [[migrations]]
    tag = "v1"
    new_sqlite_classes = ["Counter"]
""")


async def test_durable_object_binding_to_unexported_class_names_everything(
    open_project: OpenProject,
) -> None:
    with pytest.raises(WorkerLoadError) as info:
        await open_project(DO_TOML, entry="""
            from workers import Response, WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    return Response("x")
        """)
    message = str(info.value)
    assert '"COUNTER"' in message and '"Counter"' in message and "entry.py" in message


async def test_durable_object_class_left_out_of_dunder_all(open_project: OpenProject) -> None:
    with pytest.raises(WorkerLoadError, match=r"does not export \(add it to __all__\)"):
        await open_project(DO_TOML, entry="""
            from workers import DurableObject, Response, WorkerEntrypoint

            __all__ = ["Default"]

            class Counter(DurableObject):
                pass

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    return Response("x")
        """)


async def test_durable_object_binding_is_a_namespace(open_project: OpenProject) -> None:
    runtime = await open_project(DO_TOML, entry="""
        from workers import DurableObject, Response, WorkerEntrypoint

        class Counter(DurableObject):
            def hello(self, name):
                return f"hello {name}"

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response(await self.env.COUNTER.getByName("a").hello("rpc"))
    """)
    response = await runtime.fetch("http://worker.test/")
    assert await response.text() == "hello rpc"
    assert runtime.env.COUNTER.binding == "COUNTER"


async def test_durable_object_of_another_worker_is_a_placeholder(
    open_project: OpenProject,
) -> None:
    runtime = await open_project(BASE + textwrap.dedent("""
        [[durable_objects.bindings]]
        name = "REMOTE"
        class_name = "Elsewhere"
        script_name = "other-worker"
    """), entry="X = 1\n")
    assert isinstance(runtime.env.REMOTE, UnavailableBinding)
    with pytest.raises(RuntimeError, match='of Worker "other-worker"'):
        runtime.env.REMOTE.getByName("x")


async def test_unsupported_binding_kinds_name_kind_and_config_entry(
    open_project: OpenProject,
) -> None:
    # python-workers-examples 09-workers-ai (env.AI.run), an R2 bucket: touching the
    # binding says which kind and which config entry (D1 and Workflows run locally now).
    runtime = await open_project(BASE + textwrap.dedent("""
        [[r2_buckets]]
        binding = "DB"
        bucket_name = "quotes"
        [ai]
        binding = "AI"
        [[queues.producers]]
        binding = "JOBS"
        queue = "jobs"
    """), entry="X = 1\n")
    with pytest.raises(RuntimeError) as info:
        runtime.env.DB.get("x")
    assert str(info.value) == (
        "env.DB is not available in edgekv: it is an R2 Bucket binding (r2_buckets[0] in "
        "wrangler.toml), and edgekv does not run r2_buckets locally (it runs KV namespaces, "
        "Durable Objects, D1, Workflows, static assets, vars and secrets)")
    with pytest.raises(RuntimeError, match=r"it is an AI binding \(ai in wrangler.toml\)"):
        await runtime.env.AI.run("@cf/model", {})
    with pytest.raises(RuntimeError, match=r"Queue binding \(queues.producers\[0\]"):
        runtime.env.JOBS.send("x")
    assert runtime.env.DB  # the binding exists (truthy); only using it fails


def test_env_without_bindings_is_truthy() -> None:
    assert Env() and len(Env()) == 0


def test_a_mistyped_binding_name_gets_a_suggestion() -> None:
    from edgekv.runtime.env import Env

    env = Env({"CACHE": object(), "TODO": object()})
    with pytest.raises(AttributeError, match=r"^env has no binding named 'CAHCE'; did you mean env.CACHE\?$"):
        env.CAHCE  # noqa: B018
    with pytest.raises(AttributeError, match=r"^env has no binding named 'NOTHING_LIKE_IT'$"):
        env.NOTHING_LIKE_IT  # noqa: B018
