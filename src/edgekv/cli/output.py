"""How commands report: wrangler's ``✘ [ERROR]`` / ``▲ [WARNING]`` lines on stderr, exit 1."""

from __future__ import annotations

import sys
from typing import IO, Any, NoReturn

import click

from edgekv.config.diagnostics import format_message

__all__ = ["CLIError", "banner", "fail", "format_message", "info", "is_interactive", "resource_location", "warn"]


class CLIError(click.ClickException):
    """A user-facing failure: printed as ``✘ [ERROR] <message>``, exit code 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.secho(format_message("✘ [ERROR]", self.message), file=file or sys.stderr,
                    err=file is None, fg="red")


def fail(message: str) -> NoReturn:
    """Stop the command with ``message``."""
    raise CLIError(message)


def warn(message: str) -> None:
    """Print a wrangler-style warning to stderr."""
    click.secho(format_message("▲ [WARNING]", message), err=True, fg="yellow")


def banner(suffix: str = "") -> None:
    """wrangler's banner (a blank line, `` ⛅️ <tool> <version>``, a rule as long)."""
    from edgekv import __version__

    title = f" ⛅️ edgekv {__version__}{suffix}"
    click.echo()
    click.echo(title)
    click.echo("─" * len(title))


def resource_location() -> None:
    """wrangler's ``Resource location: local `` line (trailing space included) and a blank
    line. (wrangler goes on with "Use --remote ...": edgekv has no remote to offer.)"""
    click.echo("Resource location: local \n")


def info(message: str = "") -> None:
    """Print a human-readable line to stdout."""
    click.echo(message)


def is_interactive() -> bool:
    """Whether a person can answer prompts (a TTY on stdin and stdout, not CI)."""
    import os

    return sys.stdin.isatty() and sys.stdout.isatty() and not os.environ.get("CI")
