"""``edgekv kv``: the ``wrangler kv`` command tree, on the project's local store."""

from __future__ import annotations

import click

from edgekv.cli.kv_bulk import bulk
from edgekv.cli.kv_import import import_wrangler
from edgekv.cli.kv_key import key
from edgekv.cli.kv_namespace import namespace

__all__ = ["kv"]


@click.group()
def kv() -> None:
    """Manage Workers KV namespaces, keys and bulk data (like `wrangler kv`)."""


kv.add_command(namespace)
kv.add_command(key)
kv.add_command(bulk)
kv.add_command(import_wrangler)
