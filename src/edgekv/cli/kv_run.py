"""What every ``edgekv kv`` command shares: where the data is (``--local``, the default, or
``--remote``), the one ``KVClient`` that reaches it, and one way to run a command's work and
report its failures as wrangler does (``edgekv.cli.run``)."""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from edgekv.cli.output import fail, info, resource_location
from edgekv.cli.project import Project
from edgekv.cli.run import run
from edgekv.client import ApiRequestFailed, KVClient, RemoteSetupError
from edgekv.client.bulkfile import BulkFileError
from edgekv.client.open import open_client as open_project_client
from edgekv.errors import KVError, KVSyntaxError, KVTypeError

__all__ = ["input_path", "location_options", "open_client", "print_location", "run_kv"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_REPORTED = (KVError, KVTypeError, KVSyntaxError, BulkFileError, ApiRequestFailed, RemoteSetupError)


def location_options(func: F) -> F:
    """Add ``--local`` (the default) and ``--remote``; the command receives ``remote: bool``."""

    @click.option("--local", is_flag=True, default=False,
                  help="Use the project's local store (the default; the one `edgekv dev` serves).")
    @click.option("--remote", is_flag=True, default=False,
                  help="Use the v4 API at CLOUDFLARE_API_BASE_URL (`edgekv serve`, Cloudflare).")
    @functools.wraps(func)
    def wrapper(local: bool, remote: bool, **kwargs: Any) -> Any:
        if local and remote:
            fail("Arguments local and remote are mutually exclusive")
        kwargs["remote"] = remote
        return func(**kwargs)

    return wrapper  # type: ignore[return-value]


def open_client(project: Project, remote: bool) -> KVClient:
    """The project's local store, or the API that wrangler's variables (process
    environment, then the project's ``.env`` files) point at (``edgekv.client.open``)."""
    environ = None
    if remote and project.env_files:  # --env-file replaces the .env files (the process still wins)
        environ = {**project.env_file_values(), **os.environ}
    return open_project_client(project.config, remote=remote, kv_url=project.kv_url,
                               environ=environ, cwd=project.cwd)


def input_path(project: Project, name: str) -> Path:
    """A file named on the command line, relative to ``--cwd`` as wrangler resolves it."""
    return project.cwd / name  # an absolute ``name`` stays as it is


def print_location(remote: bool) -> None:
    """wrangler's ``Resource location: …`` line and a blank line."""
    if remote:
        info("Resource location: remote \n")
    else:
        resource_location()


def run_kv(project: Project, remote: bool, work: Callable[[KVClient], Awaitable[T]]) -> T:
    """Open the client, run ``work`` with it, close it. KV rule violations, bad bulk files
    and API failures end the command with ``✘ [ERROR] <message>`` and exit code 1; other
    exceptions (a command's own cases) propagate."""

    async def main() -> T:
        client = open_client(project, remote)
        async with client:
            return await work(client)

    return run(main(), errors={_REPORTED: str})
