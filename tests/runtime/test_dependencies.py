"""A Worker's dependencies: ``pyproject.toml`` (pywrangler's layout) and ``python_modules/``.

Stands for the Python templates of create-cloudflare (``dependencies = ["fastapi"]`` &c.)
and for projects after ``pywrangler sync``, whose ``python_modules/`` holds Pyodide wheels
and the real ``workers-runtime-sdk``. Resolution uses pip against the package index, as
``.ci/run`` does.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from edgekv.config import load_config
from edgekv.runtime.dependencies import DependencyError, resolve_dependencies
from edgekv.runtime.loader import WorkerSetupError
from edgekv.runtime.worker import WorkerRuntime

TOML = """\
name = "deps"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def pyproject(*deps: str) -> str:
    listed = ", ".join(f'"{d}"' for d in deps)
    return (f'[project]\nname = "w"\nversion = "0.1.0"\nrequires-python = ">=3.13"\n'
            f"dependencies = [{listed}]\n"
            '[dependency-groups]\ndev = ["workers-py", "workers-runtime-sdk"]\n')


def test_satisfied_requirements_install_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": pyproject("httpx>=0.20", "flask",
                                                 "pywin32; sys_platform == 'win32'")})
    assert resolve_dependencies(tmp_path, tmp_path / ".edgekv") is None
    assert not (tmp_path / ".edgekv").exists()


def test_missing_requirement_is_installed_once_into_the_state_folder(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": pyproject("six==1.16.0")})
    before = list(sys.path)
    try:
        target = resolve_dependencies(tmp_path, tmp_path / ".edgekv")
        assert target is not None and (target / "six.py").is_file()
        assert target.parent == tmp_path / ".edgekv" / "python"
        marker = target / ".edgekv-complete"
        stamp = marker.stat().st_mtime_ns
        assert resolve_dependencies(tmp_path, tmp_path / ".edgekv") == target  # cached
        assert marker.stat().st_mtime_ns == stamp
        write(tmp_path, {"pyproject.toml": pyproject("six==1.16.0", "httpx")})
        assert resolve_dependencies(tmp_path, tmp_path / ".edgekv") == target  # same missing set
    finally:
        sys.path[:] = before
        sys.modules.pop("six", None)


def test_unresolvable_requirement_names_the_package(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": pyproject("edgekv-no-such-package-4242")})
    with pytest.raises(DependencyError, match="edgekv-no-such-package-4242"):
        resolve_dependencies(tmp_path, tmp_path / ".edgekv")


async def test_open_reports_a_bad_dependency(tmp_path: Path) -> None:
    write(tmp_path, {"wrangler.toml": TOML, "pyproject.toml": pyproject("edgekv-no-such-pkg-77"),
                     "src/entry.py": "from workers import WorkerEntrypoint\n"})
    with pytest.raises(WorkerSetupError, match="Could not install edgekv-no-such-pkg-77"):
        await WorkerRuntime.open(load_config(tmp_path), store_url="memory://")


async def test_python_modules_pure_packages_used_pyodide_builds_and_sdk_skipped(
    tmp_path: Path,
) -> None:
    write(tmp_path, {
        "wrangler.toml": TOML,
        "pyproject.toml": pyproject(),
        "python_modules/purepkg/__init__.py": "VALUE = 'pure'\n",
        "python_modules/binpkg/__init__.py": "raise ImportError('the Pyodide build was used')\n",
        "python_modules/binpkg/_speedups.cpython-313-wasm32-emscripten.so": "",
        "python_modules/workers/__init__.py": "raise ImportError('the real SDK was used')\n",
        "python_modules/js.py": "raise ImportError('a foreign js was used')\n",
        "src/entry.py": """\
            from workers import Response, WorkerEntrypoint
            import js
            import purepkg

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    try:
                        import binpkg  # noqa: F401
                        found = "binpkg imported"
                    except ImportError as exc:
                        found = type(exc).__name__
                    return Response(f"{purepkg.VALUE} {found}")
            """,
    })
    runtime = await WorkerRuntime.open(load_config(tmp_path), store_url="memory://")
    try:
        transport = httpx.ASGITransport(app=runtime.asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
            assert (await client.get("/")).text == "pure ModuleNotFoundError"
    finally:
        await runtime.close()
        sys.modules.pop("purepkg", None)
