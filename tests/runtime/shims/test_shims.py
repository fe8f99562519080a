"""Shim injection: our workers/js/pyodide/asgi win over foreign copies, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )


def fake_sdk(root: Path) -> Path:
    """A stand-in for workers-runtime-sdk: top-level workers, asgi, js, pyodide packages."""
    site = root / "site"
    (site / "workers").mkdir(parents=True)
    (site / "workers" / "__init__.py").write_text("FAKE = True\nimport js\n")
    (site / "workers" / "gateway.py").write_text("FAKE = True\n")
    (site / "asgi.py").write_text("FAKE = True\n")
    (site / "js.py").write_text("FAKE = True\n")
    (site / "pyodide").mkdir()
    (site / "pyodide" / "__init__.py").write_text("FAKE = True\n")
    return site


def test_ours_win_after_install_even_if_foreign_ones_were_imported(tmp_path: Path) -> None:
    site = fake_sdk(tmp_path)
    result = run(f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        import asgi, pyodide
        assert asgi.FAKE and pyodide.FAKE
        from edgekv.runtime import shims
        shims.install()
        # A loader that prepends the project (or python_modules/) later must not win either.
        sys.path.insert(0, {str(site)!r})
        import workers, js, asgi, pyodide.ffi, workers.asgi, workers.workflows
        from workers import Response, WorkerEntrypoint, env, wait_until
        import edgekv.runtime.web.response as real
        assert workers.Response is real.Response, workers.__file__
        assert not hasattr(workers, "FAKE") and not hasattr(asgi, "FAKE")
        assert not hasattr(js, "FAKE") and not hasattr(pyodide, "FAKE")
        assert js.Response.new("x").status == 200
        assert pyodide.ffi.jsnull is not None
        try:
            import workers.gateway
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError("foreign submodule mixed into our workers package")
        try:
            import _cloudflare
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError("_cloudflare must never be importable")
        shims.install()  # idempotent
        assert sys.meta_path.count(shims._finder) == 1
        shims.uninstall()
        assert "workers" not in sys.modules
        import workers as foreign
        assert foreign.FAKE
        print("OK")
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


def test_workers_env_resolves_through_the_binding(tmp_path: Path) -> None:
    result = run("""
        from edgekv.runtime import shims, set_default_env, bound
        shims.install()
        set_default_env({"K": "default"})
        from workers import env as at_import
        import workers
        assert at_import == {"K": "default"}
        with bound({"K": "request"}):
            assert workers.env == {"K": "request"}
        with workers.patch_env(X="1"):
            assert workers.env.X == "1"
        print("OK")
    """, tmp_path)
    assert result.returncode == 0, result.stderr


def test_worker_file_runs_unchanged(tmp_path: Path) -> None:
    worker = tmp_path / "entry.py"
    worker.write_text(textwrap.dedent("""
        from workers import WorkerEntrypoint, Response
        from js import console
        from pyodide.ffi import to_js

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                console.log("handling", request.url)
                data = to_js({"n": self.env["N"]})
                return Response.json({"url": request.url, "data": data})
    """))
    result = run(f"""
        import asyncio, importlib, sys
        from edgekv.runtime import shims, Context, Request
        shims.install()
        sys.path.insert(0, {str(tmp_path)!r})
        entry = importlib.import_module("entry")
        async def main():
            worker = entry.Default(Context(), {{"N": 3}})
            response = await worker.fetch(Request("https://w.test/x"))
            print(await response.text())
        asyncio.run(main())
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '{"url": "https://w.test/x", "data": {"n": 3}}'
