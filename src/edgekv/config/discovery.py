"""Find the wrangler configuration file the way wrangler does.

Wrangler (workers-sdk ``config-helpers.ts`` ``findWranglerConfig``) searches **per file name**:
first ``wrangler.json`` in the start directory and every parent, then ``wrangler.jsonc`` the
same way, then ``wrangler.toml``. So a ``wrangler.json`` in a parent directory wins over a
``wrangler.toml`` next to you; we keep that quirk so both tools pick the same file.
An explicit ``--config PATH`` bypasses the search.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CONFIG_FILE_NAMES", "find_config", "resolve_config_path"]

#: Accepted file names, in wrangler's order of preference.
CONFIG_FILE_NAMES: tuple[str, ...] = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")


def find_config(start_dir: str | Path | None = None) -> Path | None:
    """The config file wrangler would use when run in ``start_dir`` (default: cwd), or None.

    The returned path is absolute. Directories named like a config file are ignored.
    """
    start = Path(start_dir if start_dir is not None else Path.cwd()).resolve()
    for name in CONFIG_FILE_NAMES:
        for directory in (start, *start.parents):
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def resolve_config_path(
    path_or_dir: str | Path | None, *, cwd: str | Path | None = None
) -> Path | None:
    """The config file for ``path_or_dir``: a file is taken as is (like ``--config``), a
    directory (or None, meaning ``cwd``) is searched upward with ``find_config``.

    Returns an absolute path, or None when a search finds nothing. A file path that does not
    exist is returned as is; the loader reports it.
    """
    base = Path(cwd) if cwd is not None else Path.cwd()
    if path_or_dir is None:
        return find_config(base)
    path = Path(path_or_dir)
    if not path.is_absolute():
        path = base / path
    if path.is_dir():
        return find_config(path)
    return path.resolve()
