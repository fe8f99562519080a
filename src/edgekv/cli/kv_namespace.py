"""``edgekv kv namespace create | list | delete | rename | export | import``.

Local by default; ``--remote`` runs them against the v4 API (wrangler's namespace commands
are always remote). ``export`` then ``import`` copies a namespace between any two of them."""

from __future__ import annotations

import re
import sys
from typing import IO

import click

from edgekv.cli.kv_bulk import load_file
from edgekv.cli.kv_run import location_options, print_location, run_kv
from edgekv.cli.output import banner, fail, info, is_interactive, warn
from edgekv.cli.project import Project, project_options
from edgekv.cli.targets import resolve_namespace_id
from edgekv.client import KVClient
from edgekv.client.bulk import write_export
from edgekv.client.jsonout import pretty
from edgekv.client.open import namespace_title
from edgekv.config.editing import ConfigEditError, add_kv_namespace
from edgekv.errors import NamespaceNotFound, NamespaceTitleExists

__all__ = ["namespace"]


@click.group()
def namespace() -> None:
    """Manage Workers KV namespaces."""


def _binding_name(title: str) -> str:
    """wrangler's ``getValidBindingName``: letters, digits and ``_`` only."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", title)
    return f"_{name}" if name[:1].isdigit() else name


def _snippet(project: Project, binding: str, id_field: str, namespace_id: str,
             remote: bool = False) -> str:
    path = project.config.config_path
    if path is not None and path.suffix in (".json", ".jsonc"):
        return pretty({"kv_namespaces": [{"binding": binding, id_field: namespace_id}]})
    if path is None and remote:  # wrangler's default format, without a config file
        return pretty({"kv_namespaces": [{"binding": binding, id_field: namespace_id}]})
    return f'[[kv_namespaces]]\nbinding = "{binding}"\n{id_field} = "{namespace_id}"'


@namespace.command("create")
@click.argument("title")
@click.option("--preview", is_flag=True, help="Create a preview namespace (title ends in _preview).")
@click.option("--binding", default=None, help="The binding name to use in the printed snippet.")
@click.option("--update-config", is_flag=True,
              help="Add the new binding to the configuration file instead of printing it.")
@location_options
@project_options
def create(title: str, preview: bool, binding: str | None, update_config: bool, remote: bool,
           project: Project) -> None:
    """Create a namespace called TITLE and print the config snippet that binds it."""
    env = project.config.env
    full_title = namespace_title(title, env, preview)

    async def work(client: KVClient) -> str:
        return (await client.create_namespace(full_title)).id

    banner()
    print_location(remote)
    info(f'🌀 Creating namespace with title "{full_title}"')
    try:
        namespace_id = run_kv(project, remote, work)
    except NamespaceTitleExists:
        hint = ("\n\nYou can list existing namespaces with their IDs by running:\n"
                "  edgekv kv namespace list --remote\n\nOr choose a different namespace name.")
        fail(f'A KV namespace with the title "{full_title}" already exists.' + (hint if remote else ""))
    info("✨ Success!")
    id_field = "preview_id" if preview else "id"
    name = _binding_name(binding or title)
    config_path = project.config.config_path
    if update_config:
        if config_path is None:
            fail("--update-config needs a configuration file (none was found).")
        try:
            add_kv_namespace(config_path, name, id_field, namespace_id, env)
        except ConfigEditError as exc:
            fail(str(exc))
        info(f'Added the binding "{name}" to {config_path.name}.')
        return
    where = f" under [env.{env}]" if env else ""
    info("To access your new KV Namespace in your Worker, add the following snippet to your "
         f"configuration file{where}:")
    info(_snippet(project, name, id_field, namespace_id, remote))


@namespace.command("list")
@location_options
@project_options
def list_(remote: bool, project: Project) -> None:
    """List every namespace as JSON."""

    async def work(client: KVClient) -> list[dict[str, object]]:
        return [{"id": ns.id, "title": ns.title, "supports_url_encoding": True}
                for ns in await client.list_namespaces()]

    info(pretty(run_kv(project, remote, work)))


def _id_by_title(project: Project, remote: bool, title: str, missing: str | None = None) -> str:
    """The id of the namespace titled ``title``; fails with ``missing`` (remote runs: wrangler's
    text) or edgekv's local text when there is none."""

    async def work(client: KVClient) -> str | None:
        found = await client.namespace_by_title(title)
        return None if found is None else found.id

    found = run_kv(project, remote, work)
    if found is None:
        if remote and missing is not None:
            fail(missing)
        fail(f'No namespace found with the name "{title}". Use --namespace-id instead.')
    return found


def _selected(project: Project, remote: bool, name: str | None, binding: str | None,
              namespace_id: str | None, preview: bool | None, missing: str | None = None) -> str:
    """The namespace named by exactly one of NAME, --binding and --namespace-id."""
    if sum(x is not None for x in (name, binding, namespace_id)) != 1:
        fail("Exactly one of the arguments namespace, binding and namespace-id is required")
    if name is not None:
        return _id_by_title(project, remote, name, missing)
    return resolve_namespace_id(project, (binding, namespace_id, preview), remote)


@namespace.command("delete")
@click.argument("name", required=False)
@click.option("--binding", default=None, help="The binding name of the namespace to delete.")
@click.option("--namespace-id", default=None, help="The id of the namespace to delete.")
@click.option("--preview", type=click.BOOL, is_flag=False, flag_value=True, default=None,
              help="Delete the binding's preview namespace.")
@click.option("-y", "--skip-confirmation", is_flag=True, help="Do not ask for confirmation.")
@location_options
@project_options
def delete(name: str | None, binding: str | None, namespace_id: str | None,
           preview: bool | None, skip_confirmation: bool, remote: bool, project: Project) -> None:
    """Delete a namespace (by NAME, --binding or --namespace-id) and all of its keys."""
    if remote:
        _delete_remote(name, binding, namespace_id, preview, skip_confirmation, project)
        return
    namespace_id = _selected(project, remote, name, binding, namespace_id, preview)
    banner()
    print_location(remote)
    if not skip_confirmation and is_interactive() and not click.confirm(
        f"Are you sure you want to delete namespace {namespace_id}?", default=False
    ):
        info("Not deleting.")
        return
    info(f"Deleting KV namespace {namespace_id}.")

    async def work(client: KVClient) -> None:
        await client.delete_namespace(namespace_id)

    run_kv(project, remote, work)
    info(f"Deleted KV namespace {namespace_id}.")


def _delete_remote(name: str | None, binding: str | None, namespace_id: str | None,
                   preview: bool | None, skip_confirmation: bool, project: Project) -> None:
    """wrangler 4.86's remote delete: the banner first, the namespace named as the user
    named it, a warning, and a confirmation that CI answers yes."""
    banner()
    print_location(True)
    missing = (f'Not able to delete namespace.\nNo namespace found with the name "{name}". Use '
               "--namespace-id or --binding instead, or check available namespaces with "
               '"edgekv kv namespace list --remote".')
    namespace_id = _selected(project, True, name, binding, namespace_id, preview, missing)
    if name is not None:
        shown = f'name: "{name}" (id: "{namespace_id}")'
    elif binding is not None:
        shown = f'binding: "{binding}" (id: "{namespace_id}")'
    else:
        shown = f'id: "{namespace_id}"'
    info(f"About to delete remote KV namespace {shown}.\n"
         "This action is irreversible and will permanently delete all data in the KV namespace.\n")
    if not skip_confirmation:
        if is_interactive():
            if not click.confirm("Ok to proceed?", default=False):
                info("Not deleting.")
                return
        else:
            info("? Ok to proceed?\n🤖 Using fallback value in non-interactive context: yes")
    info(f"Deleting KV namespace {shown}.")

    async def work(client: KVClient) -> None:
        await client.delete_namespace(namespace_id)

    run_kv(project, True, work)
    info(f"Deleted KV namespace {shown}.")


@namespace.command("rename")
@click.argument("old_name", required=False)
@click.option("--namespace-id", default=None, help="The id of the namespace to rename.")
@click.option("--new-name", required=True, help="The new title of the namespace.")
@location_options
@project_options
def rename(old_name: str | None, namespace_id: str | None, new_name: str, remote: bool,
           project: Project) -> None:
    """Give a namespace (OLD_NAME or --namespace-id) a new title."""
    if (old_name is None) == (namespace_id is None):
        fail("Either old-name (as first argument) or --namespace-id must be specified")
    if len(new_name) > 512:
        fail("new-name must be 512 characters or fewer")
    if remote:  # wrangler prints its banner before looking the name up
        banner()
        print_location(remote)
    if namespace_id is None:
        missing = (f'No namespace found with the name "{old_name}". Use --namespace-id instead '
                   'or check available namespaces with "edgekv kv namespace list --remote".')
        namespace_id = _id_by_title(project, remote, str(old_name), missing)
    if not remote:
        banner()
        print_location(remote)
    info(f'Renaming KV namespace {namespace_id} to "{new_name}".')

    async def work(client: KVClient) -> None:
        await client.rename_namespace(namespace_id, new_name)

    try:
        run_kv(project, remote, work)
    except NamespaceNotFound:
        fail(f'No namespace found with the id "{namespace_id}".')
    except NamespaceTitleExists:
        fail(f'A KV namespace with the title "{new_name}" already exists.')
    if remote:
        info(f'✨ Successfully renamed namespace to "{new_name}"')
    else:
        info(f'✨ Successfully renamed namespace ID "{namespace_id}" to "{new_name}"')


@namespace.command("export")
@click.argument("name", required=False)
@click.option("--binding", default=None, help="The binding name of the namespace to export.")
@click.option("--namespace-id", default=None, help="The id of the namespace to export.")
@click.option("--preview", type=click.BOOL, is_flag=False, flag_value=True, default=None)
@click.option("--prefix", default="", help="Only export keys that start with this prefix.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write the bulk file (default: stdout).")
@location_options
@project_options
def export(name: str | None, binding: str | None, namespace_id: str | None, preview: bool | None,
           prefix: str, output: IO[str], remote: bool, project: Project) -> None:
    """Write a namespace as a `kv bulk put` file: every key with its value (base64 when not
    UTF-8), expiration and metadata. `edgekv kv namespace import` (or `kv bulk put`) loads
    it back losslessly, locally or on another server."""
    namespace_id = _selected(project, remote, name, binding, namespace_id, preview)

    async def work(client: KVClient) -> None:
        await write_export(client, namespace_id, output.write, prefix)

    run_kv(project, remote, work)
    if output is not sys.stdout:
        output.flush()


@namespace.command("import")
@click.argument("filename")
@click.argument("name", required=False)
@click.option("--binding", default=None, help="The binding name of the namespace to import into.")
@click.option("--namespace-id", default=None, help="The id of the namespace to import into.")
@click.option("--preview", type=click.BOOL, is_flag=False, flag_value=True, default=None)
@location_options
@project_options
def import_(filename: str, name: str | None, binding: str | None, namespace_id: str | None,
            preview: bool | None, remote: bool, project: Project) -> None:
    """Load FILENAME (a `kv namespace export` or `kv bulk put` file; `-` for stdin) into the
    namespace titled NAME (created if there is none) or given by --binding/--namespace-id.

    The file is checked whole first: if an item is wrong, nothing is stored. Keys whose
    expiration has passed (or is too close to be stored) since the export are skipped."""
    shown = "stdin" if filename == "-" else filename
    title = name if binding is None and namespace_id is None else None
    if title is None:
        namespace_id = _selected(project, remote, name, binding, namespace_id, preview)
    banner()
    print_location(remote)

    def announce(chosen: str, created: bool) -> None:
        if created:
            info(f'🌀 Created namespace "{title}" with id "{chosen}".')
        info(f'Importing "{shown}" into KV namespace {chosen}.')

    load = load_file(project, remote, namespace_id, filename, title=title, on_namespace=announce,
                     skip_expired=True)
    if load.expired:
        listed = ", ".join(f'"{k}"' for k in load.expired[:10])
        more = f" and {len(load.expired) - 10} more" if len(load.expired) > 10 else ""
        warn(f"{len(load.expired)} key(s) expired since the export and were not imported: "
             f"{listed}{more}.")
    info(f"✨ Imported {load.stored} key-value pair(s) into KV namespace {load.namespace_id}.")
