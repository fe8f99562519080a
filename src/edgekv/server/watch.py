"""Which file changes reload the Worker.

A change to a ``.py`` file, to a wrangler config file, to ``pyproject.toml`` (its
dependencies are resolved again) or to ``.dev.vars*``/``.env*`` under the watched folders
reloads the Worker. Static assets need no reload: they are read from disk per request. The state folder (``.edgekv``: SQLite files change on
every write), virtualenvs, ``python_modules`` (vendored for Cloudflare), caches and VCS
folders are ignored.
"""

from __future__ import annotations

from pathlib import Path

from watchfiles import Change, DefaultFilter

from edgekv.config import CONFIG_FILE_NAMES

__all__ = ["WorkerFilter"]

_EXTRA_IGNORED_DIRS = (".edgekv", ".wrangler", "python_modules", ".venv-workers")


class WorkerFilter(DefaultFilter):
    """watchfiles filter: Python sources, config files and local secrets; ``ignore`` excluded."""

    def __init__(self, ignore: tuple[Path, ...] = ()) -> None:
        super().__init__(
            ignore_dirs=(*DefaultFilter.ignore_dirs, *_EXTRA_IGNORED_DIRS), ignore_paths=ignore
        )

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        name = Path(path).name
        return (
            name.endswith(".py")
            or name in CONFIG_FILE_NAMES
            or name == "pyproject.toml"
            or name.startswith((".dev.vars", ".env"))
        )
