"""How commands report: wrangler's ``✘ [ERROR]`` / ``▲ [WARNING]`` lines on stderr, exit 1."""

from __future__ import annotations

import sys
from typing import IO, Any, NoReturn

import click

__all__ = ["CLIError", "banner", "fail", "format_message", "info", "is_interactive", "resource_location", "warn"]


def format_message(kind: str, message: str) -> str:
    """A wrangler (esbuild-style) message: the first line after the tag, the rest as notes
    indented by two spaces after a blank line, and a blank line at the end."""
    if message.startswith(kind):  # already laid out (a config report)
        return message.rstrip("\n") + "\n"
    first, _, rest = message.partition("\n")
    text = f"{kind} {first}\n"
    if rest:
        text += "\n" + "\n".join(f"  {line}" for line in rest.split("\n")) + "\n"
    return text


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
