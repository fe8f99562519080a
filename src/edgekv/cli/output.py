"""How commands report: wrangler's ``✘ [ERROR]`` / ``▲ [WARNING]`` lines on stderr, exit 1."""

from __future__ import annotations

import sys
from typing import IO, Any, NoReturn

import click

__all__ = ["CLIError", "fail", "info", "is_interactive", "warn"]


class CLIError(click.ClickException):
    """A user-facing failure: printed as ``✘ [ERROR] <message>``, exit code 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        text = self.message
        if not text.startswith("✘ [ERROR]"):
            text = f"✘ [ERROR] {text}"
        click.secho(text, file=file or sys.stderr, err=file is None, fg="red")


def fail(message: str) -> NoReturn:
    """Stop the command with ``message``."""
    raise CLIError(message)


def warn(message: str) -> None:
    """Print a wrangler-style warning to stderr."""
    text = message if message.startswith("▲ [WARNING]") else f"▲ [WARNING] {message}"
    click.secho(text, err=True, fg="yellow")


def info(message: str = "") -> None:
    """Print a human-readable line to stdout."""
    click.echo(message)


def is_interactive() -> bool:
    """Whether a person can answer prompts (a TTY on stdin and stdout, not CI)."""
    import os

    return sys.stdin.isatty() and sys.stdout.isatty() and not os.environ.get("CI")
