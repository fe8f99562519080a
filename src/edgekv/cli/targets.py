"""Which KV namespace a ``kv key``/``kv bulk`` command acts on.

``--namespace-id`` names it directly; ``--binding`` looks it up in the config's
``kv_namespaces`` of the selected environment. ``--preview`` picks ``preview_id``;
``--preview false`` picks ``id``. Without ``--preview`` edgekv picks what ``edgekv dev``
reads (``preview_id``, else ``id``, else the binding name), so data written with the CLI is
the data the running Worker sees. (wrangler instead reads ``id`` and refuses to write when
both ids exist: the mismatch its users complain about.) With ``--remote`` the binding's
``id`` is used (``preview_id`` with ``--preview``): the namespace deployed Workers read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from edgekv.cli.kv_run import location_options
from edgekv.cli.output import fail
from edgekv.cli.project import Project

__all__ = ["describe_namespace", "resolve_namespace_id", "target_options"]

F = TypeVar("F", bound=Callable[..., Any])


def target_options(func: F) -> F:
    """Add ``--binding``, ``--namespace-id``, ``--preview``, ``--local``, ``--remote``; the
    command receives ``target`` (the first three) and ``remote``."""

    @click.option("--binding", default=None, help="The binding name of the namespace in the config.")
    @click.option("--namespace-id", default=None, help="The id of the namespace.")
    @click.option("--preview", type=click.BOOL, is_flag=False, flag_value=True, default=None,
                  help="Use the binding's preview_id (--preview false: its id).")
    @location_options
    @functools.wraps(func)
    def wrapper(binding: str | None, namespace_id: str | None, preview: bool | None,
                **kwargs: Any) -> Any:
        kwargs["target"] = (binding, namespace_id, preview)
        return func(**kwargs)

    return wrapper  # type: ignore[return-value]


def resolve_namespace_id(project: Project, target: tuple[str | None, str | None, bool | None],
                         remote: bool = False) -> str:
    """The namespace id the flags select. Fails with wrangler's messages."""
    binding, namespace_id, preview = target
    if (binding is None) == (namespace_id is None):
        fail("Exactly one of the arguments binding and namespace-id is required")
    if namespace_id is not None:
        return namespace_id
    config = project.config
    if not config.kv_namespaces:
        fail("No KV Namespaces configured! Either use --namespace-id to upload directly or "
             "add a KV namespace to your wrangler config file.")
    found = config.kv_namespace(str(binding))
    if found is None:
        fail(f'A namespace with binding name "{binding}" was not found in the configured '
             '"kv_namespaces".')
    if preview is True:
        if found.preview_id is None:
            fail(f'No preview ID found for {binding}. Add one to your wrangler config file to '
                 "use a separate namespace for previewing your worker.")
        return found.preview_id
    if remote:
        if found.id is None:
            fail(f'The binding "{binding}" has no "id" in the configured "kv_namespaces": create the '
                 "namespace with `edgekv kv namespace create --remote` and add its id.")
        return found.id
    return found.local_id(preview=preview is None)


def describe_namespace(target: tuple[str | None, str | None, bool | None], namespace_id: str) -> str:
    """How wrangler names the namespace in messages: ``binding: "X" (id: "...")`` or
    ``id: "..."``."""
    binding = target[0]
    if binding is not None:
        return f'binding: "{binding}" (id: "{namespace_id}")'
    return f'id: "{namespace_id}"'
