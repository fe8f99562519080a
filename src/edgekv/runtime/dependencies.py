"""A Worker's Python dependencies where real projects keep them.

**``pyproject.toml``** next to the wrangler config (pywrangler's layout): the requirements
in ``[project].dependencies`` are made importable on CPython. Those the running environment
already satisfies are used as they are; the others are installed once with pip into a folder
of the state directory, ``<state>/python/<hash>/``, where the hash covers the requirement
list and the Python version (so a changed list re-resolves, and an unchanged one costs one
``stat``). A failure (offline, a package with no CPython build, a typo) raises
:class:`DependencyError` naming the package.

**``python_modules/``** (what ``pywrangler sync`` leaves): it holds Pyodide builds and the
real ``workers-runtime-sdk``, which do not run on CPython. It is searched *after* everything
else, through a finder that skips edgekv's own modules (``workers``, ``js``, ``pyodide``,
``asgi``, the SDK's private ones) and any top-level package with a Pyodide binary
(``*-emscripten*.so``); pure-Python packages there are used.

The project's ``requires-python`` describes the Pyodide target, so it is not enforced: the
dependencies are resolved for the running CPython.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

from edgekv.runtime.errors import RuntimeShimError

__all__ = [
    "DependencyError",
    "PythonModulesFinder",
    "install_python_modules",
    "project_requirements",
    "resolve_dependencies",
]

_SDK_NAMES = frozenset({
    "workers", "js", "pyodide", "asgi", "_cloudflare", "_workers_sdk_patch_loader",
    "_cloudflare_compat_flags", "_pyodide_entrypoint_helper", "pyodide_js",
})
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class DependencyError(RuntimeShimError):
    """The Worker's dependencies could not be made importable (the message names why)."""


def project_requirements(project_dir: Path) -> tuple[str, ...]:
    """``[project].dependencies`` of ``project_dir/pyproject.toml``; ``()`` when absent."""
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DependencyError(f"Could not read {path}: {exc}") from exc
    deps = data.get("project", {}).get("dependencies", [])
    return tuple(str(d) for d in deps if isinstance(d, str) and d.strip())


def _installed_version(name: str, paths: list[str]) -> str | None:
    dist = next(iter(importlib.metadata.distributions(name=name, path=paths)), None)
    return None if dist is None else dist.version


def _satisfied(requirement: str, paths: list[str]) -> bool:
    """Whether the environment (``paths``, edgekv's own install folders excluded) has it."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # without packaging: judge by name only
        match = _NAME.match(requirement)
        return match is not None and _installed_version(match.group(1), paths) is not None
    req = Requirement(requirement)
    if req.marker is not None and not req.marker.evaluate():
        return True
    version = _installed_version(req.name, paths)
    if version is None:
        return False
    return not req.specifier or req.specifier.contains(version, prereleases=True)


def _missing_name(stderr: str, requirements: list[str]) -> str:
    for pattern in (r"No matching distribution found for ([^\s]+)",
                    r"Could not find a version that satisfies the requirement ([^\s]+)"):
        found = re.search(pattern, stderr)
        if found:
            return found.group(1)
    return ", ".join(requirements)


def resolve_dependencies(project_dir: Path, state_dir: Path) -> Path | None:
    """Make the project's dependencies importable; returns the folder added to ``sys.path``.

    None when nothing needed installing. Raises :class:`DependencyError`.
    """
    requirements = project_requirements(project_dir)
    ours = str((state_dir / "python").resolve())
    paths = [p for p in sys.path if not str(Path(p or ".").resolve()).startswith(ours)]
    missing = [r for r in requirements if not _satisfied(r, paths)]
    if not missing:
        return None
    key = hashlib.sha256(
        ("\n".join(sorted(missing)) + f"\n{sys.version_info[:2]}").encode()).hexdigest()[:16]
    target = state_dir / "python" / key
    marker = target / ".edgekv-complete"
    if not marker.is_file():
        target.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                   "--no-input", "--upgrade", "--target", str(target), *missing]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DependencyError(
                f"Could not install the Worker's dependencies ({', '.join(missing)}) from "
                f"pyproject.toml: {exc}") from exc
        if done.returncode != 0:
            name = _missing_name(done.stderr, missing)
            tail = "\n".join(done.stderr.strip().splitlines()[-3:])
            raise DependencyError(
                f"Could not install {name}, a dependency in {project_dir / 'pyproject.toml'}, "
                f"for CPython {sys.version_info[0]}.{sys.version_info[1]} (offline, or no such "
                f"package or version?):\n{tail}")
        marker.write_text("\n".join(missing) + "\n", "utf-8")
    entry = str(target)
    if entry not in sys.path:
        sys.path.insert(0, entry)
    return target


def _has_pyodide_binary(package: Path) -> bool:
    if package.is_dir():
        return any("emscripten" in so.name for so in package.rglob("*.so"))
    return "emscripten" in package.name


class PythonModulesFinder(importlib.abc.MetaPathFinder):
    """Finds top-level modules in ``python_modules/`` last (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._verdicts: dict[str, bool] = {}

    def _allowed(self, top: str) -> bool:
        verdict = self._verdicts.get(top)
        if verdict is None:
            candidates = [self.folder / top, *self.folder.glob(f"{top}.*.so")]
            verdict = top not in _SDK_NAMES and not any(
                _has_pyodide_binary(c) for c in candidates if c.exists())
            self._verdicts[top] = verdict
        return verdict

    def find_spec(self, fullname: str, path: object = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if "." in fullname or not self._allowed(fullname):
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [str(self.folder)])


def install_python_modules(project_dir: Path) -> PythonModulesFinder | None:
    """Append a finder for ``project_dir/python_modules`` (replacing an earlier one)."""
    for finder in list(sys.meta_path):
        if isinstance(finder, PythonModulesFinder):
            sys.meta_path.remove(finder)
    folder = project_dir / "python_modules"
    if not folder.is_dir():
        return None
    finder = PythonModulesFinder(folder.resolve())
    sys.meta_path.append(finder)
    return finder
