"""``edgekv kv namespace create | list | delete | rename | export``."""

from __future__ import annotations

import asyncio
import re
import sys
from typing import IO

import click

from edgekv.cli.output import banner, fail, info, is_interactive, resource_location
from edgekv.cli.project import Project, project_options
from edgekv.cli.targets import resolve_namespace_id
from edgekv.client import LocalKV
from edgekv.client.jsonout import pretty, write_pretty_array
from edgekv.errors import NamespaceNotFound, NamespaceTitleExists

__all__ = ["namespace"]



@click.group()
def namespace() -> None:
    """Manage Workers KV namespaces."""


def _binding_name(title: str) -> str:
    """wrangler's ``getValidBindingName``: letters, digits and ``_`` only."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", title)
    return f"_{name}" if name[:1].isdigit() else name


def _snippet(project: Project, binding: str, id_field: str, namespace_id: str) -> str:
    path = project.config.config_path
    if path is not None and path.suffix in (".json", ".jsonc"):
        return pretty({"kv_namespaces": [{"binding": binding, id_field: namespace_id}]})
    return f'[[kv_namespaces]]\nbinding = "{binding}"\n{id_field} = "{namespace_id}"'


@namespace.command("create")
@click.argument("title")
@click.option("--preview", is_flag=True, help="Create a preview namespace (title ends in _preview).")
@click.option("--binding", default=None, help="The binding name to use in the printed snippet.")
@project_options
def create(title: str, preview: bool, binding: str | None, project: Project) -> None:
    """Create a namespace called TITLE and print the config snippet that binds it."""
    env = project.config.env
    full_title = f"{env}-{title}" if env else title
    if preview:
        full_title += "_preview"

    async def run() -> str:
        async with LocalKV(project.state.kv_url) as local:
            return (await local.create_namespace(full_title)).id

    banner()
    resource_location()
    info(f'🌀 Creating namespace with title "{full_title}"')
    try:
        namespace_id = asyncio.run(run())
    except NamespaceTitleExists:
        fail(f'A KV namespace with the title "{full_title}" already exists.')
    info("✨ Success!")
    where = f" under [env.{env}]" if env else ""
    info("To access your new KV Namespace in your Worker, add the following snippet to your "
         f"configuration file{where}:")
    id_field = "preview_id" if preview else "id"
    info(_snippet(project, _binding_name(binding or title), id_field, namespace_id))


@namespace.command("list")
@project_options
def list_(project: Project) -> None:
    """List every namespace as JSON."""

    async def run() -> list[dict[str, object]]:
        async with LocalKV(project.state.kv_url) as local:
            return [{"id": ns.id, "title": ns.title, "supports_url_encoding": True}
                    for ns in await local.list_namespaces()]

    info(pretty(asyncio.run(run())))


async def _id_by_title(project: Project, title: str) -> str:
    async with LocalKV(project.state.kv_url) as local:
        found = await local.namespace_by_title(title)
    if found is None:
        fail(f'No namespace found with the name "{title}". Use --namespace-id instead.')
    return found.id


@namespace.command("delete")
@click.argument("name", required=False)
@click.option("--binding", default=None, help="The binding name of the namespace to delete.")
@click.option("--namespace-id", default=None, help="The id of the namespace to delete.")
@click.option("--preview", type=click.BOOL, is_flag=False, flag_value=True, default=None,
              help="Delete the binding's preview namespace.")
@click.option("-y", "--skip-confirmation", is_flag=True, help="Do not ask for confirmation.")
@project_options
def delete(name: str | None, binding: str | None, namespace_id: str | None,
           preview: bool | None, skip_confirmation: bool, project: Project) -> None:
    """Delete a namespace (by NAME, --binding or --namespace-id) and all of its keys."""
    if sum(x is not None for x in (name, binding, namespace_id)) != 1:
        fail("Exactly one of the arguments namespace, binding and namespace-id is required")
    if name is not None:
        namespace_id = asyncio.run(_id_by_title(project, name))
    else:
        namespace_id = resolve_namespace_id(project, (binding, namespace_id, preview))
    banner()
    resource_location()
    if not skip_confirmation and is_interactive() and not click.confirm(
        f"Are you sure you want to delete namespace {namespace_id}?", default=False
    ):
        info("Not deleting.")
        return
    info(f"Deleting KV namespace {namespace_id}.")

    async def run() -> None:
        async with LocalKV(project.state.kv_url) as local:
            await local.delete_namespace(namespace_id)

    asyncio.run(run())
    info(f"Deleted KV namespace {namespace_id}.")


@namespace.command("rename")
@click.argument("old_name", required=False)
@click.option("--namespace-id", default=None, help="The id of the namespace to rename.")
@click.option("--new-name", required=True, help="The new title of the namespace.")
@project_options
def rename(old_name: str | None, namespace_id: str | None, new_name: str, project: Project) -> None:
    """Give a namespace (OLD_NAME or --namespace-id) a new title."""
    if (old_name is None) == (namespace_id is None):
        fail("Either old-name (as first argument) or --namespace-id must be specified")
    if len(new_name) > 512:
        fail("new-name must be 512 characters or fewer")
    if namespace_id is None:
        namespace_id = asyncio.run(_id_by_title(project, str(old_name)))
    banner()
    resource_location()
    info(f'Renaming KV namespace {namespace_id} to "{new_name}".')

    async def run() -> None:
        async with LocalKV(project.state.kv_url) as local:
            await local.rename_namespace(namespace_id, new_name)

    try:
        asyncio.run(run())
    except NamespaceNotFound:
        fail(f'No namespace found with the id "{namespace_id}".')
    except NamespaceTitleExists:
        fail(f'A KV namespace with the title "{new_name}" already exists.')
    info(f'✨ Successfully renamed namespace ID "{namespace_id}" to "{new_name}"')


@namespace.command("export")
@click.argument("name", required=False)
@click.option("--binding", default=None, help="The binding name of the namespace to export.")
@click.option("--namespace-id", default=None, help="The id of the namespace to export.")
@click.option("--preview", type=click.BOOL, is_flag=False, flag_value=True, default=None)
@click.option("--prefix", default="", help="Only export keys that start with this prefix.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write the bulk file (default: stdout).")
@project_options
def export(name: str | None, binding: str | None, namespace_id: str | None, preview: bool | None,
           prefix: str, output: IO[str], project: Project) -> None:
    """Write a namespace as a `kv bulk put` file: every key with its value (base64 when not
    UTF-8), expiration and metadata. `edgekv kv bulk put` loads it back losslessly."""
    from edgekv.client.bulk_io import export_items

    if sum(x is not None for x in (name, binding, namespace_id)) != 1:
        fail("Exactly one of the arguments namespace, binding and namespace-id is required")
    if name is not None:
        namespace_id = asyncio.run(_id_by_title(project, name))
    else:
        namespace_id = resolve_namespace_id(project, (binding, namespace_id, preview))

    async def run() -> None:
        async with LocalKV(project.state.kv_url) as local:
            await write_pretty_array(export_items(local, namespace_id, prefix), output.write)

    asyncio.run(run())
    if output is not sys.stdout:
        output.flush()

