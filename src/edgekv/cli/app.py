"""The root ``edgekv`` command."""

from __future__ import annotations

import click

from edgekv import __version__
from edgekv.cli.dev import dev
from edgekv.cli.kv import kv

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-v", "--version", prog_name="edgekv")
def cli() -> None:
    """edgekv: Cloudflare Workers, KV and Durable Objects on CPython."""


cli.add_command(kv)
cli.add_command(dev)


def main() -> None:
    """Console entry point."""
    cli()
