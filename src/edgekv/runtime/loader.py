"""Loading a Python Worker's main module the way Cloudflare does, and unloading it for reload.

:func:`load_worker` imports ``main`` (a ``.py`` file) and finds its entrypoints:

- the main module's folder goes first on ``sys.path``, so sibling modules import without a
  ``src.`` prefix, as on Cloudflare; a ``ModuleNotFoundError`` for ``src``/``src.x`` gets a
  note saying so (workerd's ``handleSrcImport`` hint);
- the ``workers``/``js``/``pyodide`` shims are installed before the import;
- exported names are ``__all__`` if the module defines it, else every name not starting with
  ``_`` (workerd's ``introspection.py``). Among them: ``Default`` (a ``WorkerEntrypoint``
  subclass) is the default entrypoint; ``DurableObject`` subclasses are Durable Object classes;
  a module-level ``on_fetch`` is the legacy handler (``on_fetch(request, env, ctx)``, called
  with as many arguments as it takes). ``Default`` together with ``on_fetch`` raises
  ``TypeError: Cannot define multiple default entrypoints``, as workerd does.

Any failure while importing raises :class:`WorkerLoadError` carrying the user-only traceback
(see ``tracebacks.py``). :func:`unload_worker` evicts every module imported from the Worker's
folder from ``sys.modules``, so the next load re-executes them all from source.

Limits: modules are keyed by their plain names (``entry``, ``utils``), as on Cloudflare, so two
Workers with same-named modules cannot be loaded in one process at the same time.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from edgekv.errors import EdgeKVError
from edgekv.runtime.entrypoints import DurableObject, WorkerEntrypoint
from edgekv.runtime.tracebacks import user_traceback

__all__ = [
    "LEGACY_HANDLER",
    "WorkerLoadError",
    "WorkerModule",
    "WorkerSetupError",
    "exported_names",
    "load_worker",
    "unload_worker",
]

LEGACY_HANDLER = "on_fetch"
MULTIPLE_DEFAULTS = "Cannot define multiple default entrypoints"
SRC_HINT = (
    "Hint: modules next to the Worker's main module are imported without the 'src.' "
    "prefix on Cloudflare (write 'import {name}' rather than 'import src.{name}')."
)


class WorkerSetupError(EdgeKVError):
    """The Worker cannot be loaded at all: no ``main``, not a ``.py`` file, file missing."""


class WorkerLoadError(EdgeKVError):
    """The Worker's code failed while loading (import error, bad entrypoints, bad binding).

    ``traceback_text`` is the traceback of the user's code only (no edgekv frames), or the
    message when the problem is not an exception in user code; ``path`` is the main module.
    """

    def __init__(self, message: str, *, path: Path, traceback_text: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.traceback_text = traceback_text or f"{message}\n"


@dataclass(frozen=True)
class WorkerModule:
    """A loaded Worker: its module, default entrypoint and Durable Object classes.

    ``default`` is the ``Default`` class or None; ``on_fetch`` the legacy handler or None
    (never both). ``durable_objects`` maps exported names to ``DurableObject`` subclasses.
    ``module_names`` are the ``sys.modules`` keys that came from the Worker's folder.
    """

    module: ModuleType
    path: Path
    default: type[WorkerEntrypoint] | None
    on_fetch: Any
    durable_objects: dict[str, type[DurableObject]] = field(default_factory=dict)
    module_names: frozenset[str] = frozenset()

    @property
    def source_dir(self) -> Path:
        return self.path.parent


def check_main(main_path: Path | None, main: str | None = None) -> Path:
    """Validate the ``main`` setting. Raises :class:`WorkerSetupError` with wrangler-like text."""
    if main_path is None:
        raise WorkerSetupError(
            "Missing entry-point to Worker script: add `main = \"src/entry.py\"` to your "
            "wrangler configuration file."
        )
    if main_path.suffix != ".py":
        raise WorkerSetupError(
            f'edgekv runs Python Workers: main = "{main or main_path}" must be a .py file.'
        )
    if not main_path.is_file():
        raise WorkerSetupError(f'The entry-point file at "{main or main_path}" was not found.')
    return main_path


def exported_names(module: ModuleType) -> list[str]:
    """``__all__`` when defined, else every public name (workerd's rule)."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return [str(name) for name in names]
    return [name for name in vars(module) if not name.startswith("_")]


def _under(path: str | None, directory: Path) -> bool:
    if not path:
        return False
    try:
        return Path(path).resolve().is_relative_to(directory)
    except (OSError, ValueError):
        return False


def _is_vendored(path: str) -> bool:
    parts = Path(path).parts
    return any(p in ("site-packages", "python_modules", ".venv", ".venv-workers") for p in parts)


def project_modules(directory: Path) -> list[str]:
    """Names in ``sys.modules`` whose file lives under ``directory`` (vendored packages excluded)."""
    found = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and _under(file, directory) and not _is_vendored(file):
            found.append(name)
    return found


def unload_worker(directory: Path, *, remove_path: bool = False) -> None:
    """Evict every module imported from ``directory``; optionally drop it from ``sys.path``."""
    directory = directory.resolve()
    for name in project_modules(directory):
        sys.modules.pop(name, None)
    if remove_path:
        entry = str(directory)
        while entry in sys.path:
            sys.path.remove(entry)


def _add_src_hint(exc: BaseException) -> None:
    if isinstance(exc, ModuleNotFoundError) and exc.name and (
        exc.name == "src" or exc.name.startswith("src.")
    ):
        exc.add_note(SRC_HINT.format(name=exc.name.partition(".")[2] or "<module>"))


def _import_main(path: Path) -> ModuleType:
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # No .pyc for user modules: a file edited twice within one second keeps its size and
    # mtime (seconds), and a cached .pyc would then hide the second edit on reload.
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def load_worker(main_path: Path) -> WorkerModule:
    """Import the Worker at ``main_path`` fresh and find its entrypoints.

    Evicts previously imported modules of the same folder first. Raises
    :class:`WorkerSetupError` if the file is missing or not ``.py``, and
    :class:`WorkerLoadError` if importing it raises or its entrypoints are ambiguous.
    The caller sets ``workers.env``'s default (``context.set_default_env``) before calling,
    since module-level code may read it.
    """
    from edgekv.runtime import shims

    path = check_main(main_path.resolve())
    directory = path.parent
    unload_worker(directory)
    entry = str(directory)
    while entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)
    shims.install()
    importlib.invalidate_caches()  # new sibling files created since the last import
    try:
        module = _import_main(path)
    except BaseException as exc:
        if not isinstance(exc, Exception):
            raise
        _add_src_hint(exc)
        unload_worker(directory)
        raise WorkerLoadError(
            f"{type(exc).__name__}: {exc}", path=path, traceback_text=user_traceback(exc)
        ) from exc
    names = project_modules(directory)
    _warn_src_imports(names, path)
    return _inspect(module, path, frozenset(names))


def _warn_src_imports(names: list[str], path: Path) -> None:
    import logging

    bad = sorted(n for n in names if n == "src" or n.startswith("src."))
    if bad:
        logging.getLogger("edgekv.runtime").warning(
            "%s imports %s with a 'src.' prefix: this works on CPython only because the "
            "project folder is on sys.path; on Cloudflare it fails. %s",
            path.name, ", ".join(bad), SRC_HINT.format(name=bad[-1].partition(".")[2] or "x"),
        )


def _inspect(module: ModuleType, path: Path, names: frozenset[str]) -> WorkerModule:
    default: type[WorkerEntrypoint] | None = None
    durable_objects: dict[str, type[DurableObject]] = {}
    for name in exported_names(module):
        value = getattr(module, name, None)
        if not isinstance(value, type):
            continue
        if issubclass(value, DurableObject) and value is not DurableObject:
            durable_objects[name] = value
        elif name == "Default" and issubclass(value, WorkerEntrypoint):
            default = value
    on_fetch = getattr(module, LEGACY_HANDLER, None)
    if not callable(on_fetch) or LEGACY_HANDLER not in exported_names(module):
        on_fetch = None
    if default is not None and on_fetch is not None:
        exc = TypeError(MULTIPLE_DEFAULTS)
        raise WorkerLoadError(
            f"TypeError: {MULTIPLE_DEFAULTS}",
            path=path,
            traceback_text=f"TypeError: {MULTIPLE_DEFAULTS} ({path.name} defines both "
            f"class Default and {LEGACY_HANDLER}())\n",
        ) from exc
    return WorkerModule(
        module=module,
        path=path,
        default=default,
        on_fetch=on_fetch,
        durable_objects=durable_objects,
        module_names=names,
    )
