"""Imports that run on CPython but not in Cloudflare's Python Workers (Pyodide).

The Worker's source files are scanned (not run) for ``import`` statements. An imported
package is reported when its installed distribution contains native code (``.so``/``.pyd``)
and Pyodide does not build it: such a package has no WebAssembly wheel, so ``pywrangler``
cannot vendor it. The list of what Pyodide builds is ``pyodide_packages.json``, derived from
the ``pyodide-lock.json`` of the npm package ``pyodide`` (0.28.3, the index Cloudflare's Python
3.13 Workers resolve against; ``scripts/pyodide_packages.py`` regenerates it). Standard-library
modules that Pyodide leaves out are reported too.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

__all__ = ["ImportFinding", "pyodide_packages", "scan_imports"]

_DATA = Path(__file__).with_name("pyodide_packages.json")
_SHIMS = {"workers", "js", "pyodide", "_pyodide", "pyodide_js", "asgi"}
# Standard-library modules Pyodide does not ship (its documentation's "removed" list).
_MISSING_STDLIB = {"tkinter", "turtle", "turtledemo", "idlelib", "ensurepip", "venv", "curses",
                   "readline", "dbm", "lib2to3"}
_SKIP_DIRS = {".venv", "venv", "python_modules", "node_modules", ".edgekv", ".wrangler",
              "__pycache__", "tests", "test", ".git"}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def pyodide_packages() -> dict[str, dict[str, object]]:
    """Normalized distribution name -> ``{version, imports, native}`` of Pyodide's packages."""
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    return {_normalize(name): entry for name, entry in data["packages"].items()}


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()


@functools.cache
def _is_native(dist_name: str) -> bool:
    try:
        files = metadata.distribution(dist_name).files or []
    except metadata.PackageNotFoundError:
        return False
    return any(str(f).endswith((".so", ".pyd")) for f in files)


class ImportFinding(tuple[str, int, str]):
    """``(relative path, line, message)``."""


def _worker_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if not any(part in _SKIP_DIRS for part in path.relative_to(root).parts[:-1]):
            found.append(path)
    return found


def _top_names(tree: ast.AST) -> list[tuple[str, int]]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name.split(".")[0], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.module.split(".")[0], node.lineno))
    return names


def scan_imports(root: Path) -> list[tuple[str, str]]:
    """``(path:line, message)`` for every import under ``root`` that Pyodide cannot load."""
    local = {p.stem for p in root.rglob("*.py")} | {p.name for p in root.iterdir() if p.is_dir()}
    pyodide = pyodide_packages()
    results = []
    for path in _worker_files(root):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        where = path.relative_to(root).as_posix()
        for name, line in _top_names(tree):
            if name in _SHIMS or name in local:
                continue
            if name in _MISSING_STDLIB:
                results.append((f"{where}:{line}", (f"imports {name}, which Pyodide (Cloudflare's "
                                                    "Python Workers) does not ship")))
                continue
            if name in sys.stdlib_module_names:
                continue
            for dist in _distributions().get(name, []):
                if _normalize(dist) in pyodide or not _is_native(dist):
                    continue
                results.append((f"{where}:{line}", (f"imports {name} (from {dist}), a native "
                                                    "extension with no Pyodide build: it cannot "
                                                    "run on Cloudflare's Python Workers")))
    return results
