"""Which wrangler project a test runs against: options, marker, discovery, loading.

Precedence, highest first, for the config file:

1. ``@pytest.mark.edgekv(config="path")`` (relative to the test file's folder);
2. ``--edgekv-config PATH`` (relative to the folder pytest was started in);
3. the ``edgekv_config`` ini option (relative to the ini file's folder, else the rootdir);
4. discovery as wrangler does it, from the test file's folder upward, then from the rootdir.

and for the environment: marker ``env=``, ``--edgekv-env``, ini ``edgekv_env``, then
``CLOUDFLARE_ENV`` (as wrangler). A path may name a file or a folder to search upward from.

Loading failures never escape as tracebacks: :func:`load_project` calls ``pytest.fail`` with
the configuration report, so every test that needs the project fails with the same clear
message. Loaded configs are cached per pytest session, keyed by (file, environment).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from edgekv.config import Config

__all__ = ["ProjectChoice", "choose_project", "load_project", "marker_options"]

MARKER = "edgekv"
_CACHE = pytest.StashKey[dict[tuple[str, str | None], Any]]()
_MARKER_KEYS = frozenset({"config", "env", "vars", "limits"})


@dataclass(frozen=True, slots=True)
class ProjectChoice:
    """The config path to load (None: discovery found nothing), its environment, and a note
    saying where the choice came from (for error messages)."""

    path: Path | None
    env: str | None
    origin: str


def marker_options(node: pytest.Item) -> dict[str, Any]:
    """The merged keyword arguments of every ``edgekv`` marker on ``node`` (closest wins)."""
    merged: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers(MARKER))):  # farthest first, closest last
        if mark.args:
            pytest.fail(f"@pytest.mark.{MARKER} takes keyword arguments only "
                        f"({', '.join(sorted(_MARKER_KEYS))})", pytrace=False)
        unknown = set(mark.kwargs) - _MARKER_KEYS
        if unknown:
            pytest.fail(f"@pytest.mark.{MARKER}: unknown argument(s) {', '.join(sorted(unknown))}"
                        f"; expected {', '.join(sorted(_MARKER_KEYS))}", pytrace=False)
        merged.update(mark.kwargs)
    return merged


def _ini_base(config: pytest.Config) -> Path:
    inipath = config.inipath
    return Path(inipath).parent if inipath is not None else Path(config.rootpath)


def choose_project(config: pytest.Config, test_dir: Path, marks: dict[str, Any]) -> ProjectChoice:
    """Apply the precedence of the module docstring; nothing is read from disk but the search."""
    from edgekv.config import find_config

    env = marks.get("env") or config.getoption("edgekv_env") or config.getini("edgekv_env") or None
    if marks.get("config"):
        raw, base, origin = marks["config"], test_dir, "@pytest.mark.edgekv(config=...)"
    elif config.getoption("edgekv_config"):
        raw, base = config.getoption("edgekv_config"), Path(config.invocation_params.dir)
        origin = "--edgekv-config"
    elif config.getini("edgekv_config"):
        raw, base, origin = config.getini("edgekv_config"), _ini_base(config), "ini edgekv_config"
    else:
        found = find_config(test_dir) or find_config(config.rootpath)
        return ProjectChoice(found, env, f"searched from {test_dir} and {config.rootpath}")
    path = Path(str(raw)).expanduser()
    if not path.is_absolute():
        path = base / path
    if path.is_dir():
        found = find_config(path)
        if found is None:
            pytest.fail(f"edgekv: no wrangler.json, wrangler.jsonc or wrangler.toml in {path} or "
                        f"its parents (from {origin} = {raw!r})", pytrace=False)
        path = found
    return ProjectChoice(path.resolve(), env, f"{origin} = {raw!r}")


def load_project(config: pytest.Config, choice: ProjectChoice) -> Config:
    """The loaded wrangler ``Config`` for ``choice`` (cached), or ``pytest.fail`` with why not."""
    from edgekv.config import load_config
    from edgekv.errors import ConfigError

    if choice.path is None:
        pytest.fail(
            "edgekv: no wrangler configuration found (wrangler.json, wrangler.jsonc or "
            f"wrangler.toml; {choice.origin}). Set `edgekv_config = path/to/wrangler.toml` in "
            "your pytest configuration or pass --edgekv-config.",
            pytrace=False,
        )
    cache = config.stash.setdefault(_CACHE, {})
    key = (str(choice.path), choice.env)
    cached = cache.get(key)
    if cached is None:
        try:
            cached = load_config(choice.path, env=choice.env, cwd=choice.path.parent)
        except ConfigError as exc:
            cached = exc
        cache[key] = cached
    if isinstance(cached, ConfigError):
        where = f"environment {choice.env!r} of " if choice.env else ""
        pytest.fail(f"edgekv: cannot use {where}{choice.path} ({choice.origin}):\n{cached}",
                    pytrace=False)
    return cached
