"""The options every project command shares (``--config``, ``--env``, ``--cwd``,
``--persist-to``) and what they resolve to: a ``Config`` and the local state folder."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from edgekv.cli.output import fail, warn
from edgekv.config import Config, StatePaths, load_config
from edgekv.config.dotenv import parse_dotenv
from edgekv.errors import ConfigError

__all__ = ["Project", "load_project", "project_flags", "project_options"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Project:
    """A loaded project: its config (maybe empty), where its local state lives, and the
    folder the command runs in (``--cwd``, else the process's), against which relative file
    arguments resolve."""

    config: Config
    state: StatePaths
    cwd: Path = field(default_factory=Path.cwd)
    env_files: tuple[Path, ...] = ()

    def env_file_values(self) -> dict[str, str]:
        """The variables of ``--env-file`` files, later files winning (``{}`` without any)."""
        return read_env_files(self.env_files)


def project_flags(func: F) -> F:
    """Add wrangler's global flags (``-c/--config``, ``-e/--env``, ``--cwd``,
    ``--persist-to``, ``--env-file``) as the parameters ``config_path``, ``env_name``, ``cwd``,
    ``persist_to``, ``env_files``."""
    for decorator in reversed((
        click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                     default=None, help="Path to the Wrangler configuration file."),
        click.option("-e", "--env", "env_name", default=None,
                     help="Environment to use for operations and for selecting .env/.dev.vars files."),
        click.option("--cwd", type=click.Path(file_okay=False), default=None,
                     help="Run as if edgekv was started in this directory."),
        click.option("--persist-to", type=click.Path(file_okay=False), default=None,
                     help="Directory for local persistence (default: .edgekv next to the config)."),
        click.option("--env-file", "env_files", multiple=True, type=click.Path(dir_okay=False),
                     help="A .env file to load (repeatable; later files win): the Worker's "
                          "variables in dev/serve, CLOUDFLARE_* settings for --remote."),
    )):
        func = decorator(func)
    return func


def project_options(func: F) -> F:
    """Add wrangler's global flags; the command receives ``project: Project`` instead."""

    @project_flags
    @functools.wraps(func)
    def wrapper(config_path: str | None, env_name: str | None, cwd: str | None,
                persist_to: str | None, env_files: tuple[str, ...] = (), **kwargs: Any) -> Any:
        kwargs["project"] = load_project(config_path, env_name, cwd, persist_to, env_files)
        return func(**kwargs)

    return wrapper  # type: ignore[return-value]


def read_env_files(paths: tuple[Path, ...]) -> dict[str, str]:
    """The variables of ``paths`` in order (later files win). Fails naming an unreadable file."""
    found: dict[str, str] = {}
    for path in paths:
        try:
            found.update(parse_dotenv(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"Could not read the env file {path}: {getattr(exc, 'strerror', None) or exc}")
    return found


def load_project(config_path: str | None, env_name: str | None, cwd: str | None,
                 persist_to: str | None, env_files: tuple[str, ...] = ()) -> Project:
    """Load the config like wrangler (reporting every mistake, never a traceback)."""
    base = Path(cwd).resolve() if cwd else Path.cwd()
    target = Path(config_path) if config_path else base
    if config_path and not target.is_absolute():
        target = base / target
    if config_path and not target.exists():
        fail(f"The specified configuration file {config_path} does not exist.")
    try:
        config = load_config(target, env=env_name, cwd=base)
    except ConfigError as exc:
        fail(str(exc))
    if config.diagnostics.has_warnings():
        warn(config.diagnostics.render_warnings())
    state = config.state_paths(persist_to, cwd=base)
    try:
        state.ensure()
    except OSError as exc:
        fail(f"Could not create the state folder {state.root}: {exc.strerror or exc}")
    files = tuple(base / Path(f).expanduser() for f in env_files)
    for path in files:
        if not path.is_file():
            fail(f"The env file {path} does not exist.")
    return Project(config=config, state=state, cwd=base, env_files=files)
