"""The root ``edgekv`` command.

Every command reports a failure as one line (``✘ [ERROR] ...``) and a non-zero exit:
storage and filesystem faults are explained by ``edgekv.storage.faults.explain`` (which file,
what is wrong, what to do), anything else names its class. ``--debug``, anywhere on the
command line, prints the traceback as well.
"""

from __future__ import annotations

import sqlite3
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from edgekv import __version__
from edgekv.cli.accounts import account, token
from edgekv.cli.dev import dev
from edgekv.cli.init import init
from edgekv.cli.kv import kv
from edgekv.cli.output import CLIError
from edgekv.cli.serve import serve
from edgekv.errors import KVError, StorageError
from edgekv.storage.faults import explain, is_fault

__all__ = ["cli", "main", "one_line"]

DEBUG_FLAG = "--debug"


def one_line(exc: BaseException) -> str:
    """The single line a user sees for an error that escaped a command."""
    explained = explain(exc)
    if explained is not None:
        return explained
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return (f"Unexpected error ({name}{': ' + text if text else ''}). "
            f"Run again with {DEBUG_FLAG} for the details.")


def _storage_cause(exc: BaseException) -> BaseException | None:
    """The disk or file fault behind a reported error: the error being handled when the
    command failed, or the store failure behind a binding's ``KVError``."""
    current = exc.__context__
    # A command that caught an OSError itself (an unreadable input file, an existing file)
    # already said what is wrong: only store failures are re-explained.
    if isinstance(current, (StorageError, sqlite3.Error)) and is_fault(current):
        return current
    if isinstance(current, KVError) and current.__cause__ is not None and is_fault(current.__cause__):
        return current.__cause__
    return None


class _Root(click.Group):
    """The root group: strips ``--debug`` wherever it appears and turns escaping errors
    into one line."""

    debug = False

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        self.debug = DEBUG_FLAG in argv
        argv = [arg for arg in argv if arg != DEBUG_FLAG]
        return super().main(argv, *rest, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CLIError as exc:
            # A command that reports a binding error (``fail(str(kv_error))``) would show
            # "KV PUT failed: 500 Internal Server Error" for a broken store: say what broke.
            storage = _storage_cause(exc)
            if storage is None:
                raise
            if self.debug:
                traceback.print_exception(storage, file=sys.stderr)
            raise CLIError(one_line(storage)) from storage
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort,
                KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if self.debug:
                traceback.print_exc(file=sys.stderr)
            raise CLIError(one_line(exc)) from exc


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-v", "--version", prog_name="edgekv")
def cli() -> None:
    """edgekv: Cloudflare Workers, KV and Durable Objects on CPython.

    Add --debug anywhere to print the traceback of an unexpected error.
    """


cli.add_command(kv)
cli.add_command(init)
cli.add_command(dev)
cli.add_command(serve)
cli.add_command(account)
cli.add_command(token)


def main() -> None:
    """Console entry point."""
    cli()
