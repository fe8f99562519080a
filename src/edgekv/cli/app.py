"""The root ``edgekv`` command."""

from __future__ import annotations

import click

from edgekv import __version__
from edgekv.cli.accounts import account, token
from edgekv.cli.dev import dev
from edgekv.cli.init import init
from edgekv.cli.kv import kv
from edgekv.cli.serve import serve

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-v", "--version", prog_name="edgekv")
def cli() -> None:
    """edgekv: Cloudflare Workers, KV and Durable Objects on CPython."""


cli.add_command(kv)
cli.add_command(init)
cli.add_command(dev)
cli.add_command(serve)
cli.add_command(account)
cli.add_command(token)


def main() -> None:
    """Console entry point."""
    cli()
