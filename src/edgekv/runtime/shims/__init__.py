"""Make ``import workers``, ``js``, ``pyodide``, ``asgi`` resolve to edgekv inside Worker code.

The modules in this folder are thin re-exports of ``edgekv.runtime``. They are *not* installed
as top-level distributions (that would collide with ``workers-runtime-sdk``, which users keep
as a dev dependency and ``pywrangler sync`` vendors into ``python_modules/``). Instead
:func:`install` puts a meta-path finder first in ``sys.meta_path`` that answers for exactly the
top-level names in :data:`SHIMMED` and their submodules, and evicts any foreign copy already
imported. A finder (rather than a ``sys.path`` entry) keeps precedence even when the Worker
loader later prepends the project or ``python_modules/`` directory to ``sys.path``.

edgekv never provides a module named ``_cloudflare``: the SDK's ``.pth`` hook would switch on
Pyodide-only patches if it found one.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["SHIMMED", "SHIM_DIR", "ShimFinder", "install", "installed", "uninstall"]

SHIM_DIR = Path(__file__).resolve().parent
SHIMMED: tuple[str, ...] = ("workers", "js", "pyodide", "asgi")


def _spec_at(fullname: str, base: Path) -> importlib.machinery.ModuleSpec | None:
    package_init = base / "__init__.py"
    if package_init.is_file():
        return importlib.util.spec_from_file_location(
            fullname, package_init, submodule_search_locations=[str(base)]
        )
    module_file = base.with_name(base.name + ".py")
    if module_file.is_file():
        return importlib.util.spec_from_file_location(fullname, module_file)
    return None


class ShimFinder(importlib.abc.MetaPathFinder):
    """Resolves the shimmed names (and their submodules) to files in :data:`SHIM_DIR` only."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        parts = fullname.split(".")
        if parts[0] not in SHIMMED:
            return None
        spec = _spec_at(fullname, SHIM_DIR.joinpath(*parts))
        if spec is None:
            # Claim the name anyway: a foreign ``workers.gateway`` must not mix into our package.
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (edgekv provides {parts[0]!r} but not this "
                "submodule)",
                name=fullname,
            )
        return spec


_finder = ShimFinder()


def _is_ours(module: ModuleType | None) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().is_relative_to(SHIM_DIR)


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return _finder in sys.meta_path


def install() -> None:
    """Route the shimmed imports to edgekv; idempotent.

    Any already-imported module under a shimmed name that is not edgekv's (for example the
    real ``workers`` from ``workers-runtime-sdk``) is dropped from ``sys.modules`` so the next
    import finds ours.
    """
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    sys.meta_path.insert(0, _finder)
    for name in list(sys.modules):
        if name.split(".")[0] in SHIMMED and not _is_ours(sys.modules[name]):
            del sys.modules[name]


def uninstall() -> None:
    """Undo :func:`install` and forget the shim modules imported through it."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in list(sys.modules):
        if name.split(".")[0] in SHIMMED and _is_ours(sys.modules[name]):
            del sys.modules[name]
