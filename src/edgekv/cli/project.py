"""The options every project command shares (``--config``, ``--env``, ``--cwd``,
``--persist-to``) and what they resolve to: a ``Config`` and the local state folder."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from edgekv.cli.output import fail, warn
from edgekv.config import Config, StatePaths, load_config
from edgekv.errors import ConfigError

__all__ = ["Project", "load_project", "project_flags", "project_options"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Project:
    """A loaded project: its config (maybe empty) and where its local state lives."""

    config: Config
    state: StatePaths
    #: ``--store URL``: the store to work on instead of the state folder's (a cluster's
    #: central ``postgresql://`` store).
    store_url: str | None = None

    @property
    def kv_url(self) -> str:
        """The KV store the command works on: ``--store``, else the state folder's."""
        return self.store_url or self.state.kv_url


def project_flags(func: F) -> F:
    """Add wrangler's global flags (``-c/--config``, ``-e/--env``, ``--cwd``,
    ``--persist-to``) as the parameters ``config_path``, ``env_name``, ``cwd``, ``persist_to``."""
    for decorator in reversed((
        click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                     default=None, help="Path to the Wrangler configuration file."),
        click.option("-e", "--env", "env_name", default=None,
                     help="Environment to use for operations and for selecting .env/.dev.vars files."),
        click.option("--cwd", type=click.Path(file_okay=False), default=None,
                     help="Run as if edgekv was started in this directory."),
        click.option("--persist-to", type=click.Path(file_okay=False), default=None,
                     help="Directory for local persistence (default: .edgekv next to the config)."),
    )):
        func = decorator(func)
    return func


def project_options(func: F) -> F:
    """Add wrangler's global flags; the command receives ``project: Project`` instead."""

    @project_flags
    @click.option("--store", "store_url", default=None, metavar="URL",
                  help="Work on this store (e.g. a cluster's postgresql://...) instead of the state folder's.")
    @functools.wraps(func)
    def wrapper(config_path: str | None, env_name: str | None, cwd: str | None,
                persist_to: str | None, store_url: str | None = None, **kwargs: Any) -> Any:
        project = load_project(config_path, env_name, cwd, persist_to)
        kwargs["project"] = dataclasses.replace(project, store_url=store_url) if store_url else project
        return func(**kwargs)

    return wrapper  # type: ignore[return-value]


def load_project(config_path: str | None, env_name: str | None, cwd: str | None,
                 persist_to: str | None) -> Project:
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
    return Project(config=config, state=state)
