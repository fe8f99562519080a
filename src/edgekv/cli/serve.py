"""``edgekv serve [DIR]``: the production server.

With DIR it serves that folder's Worker (as ``edgekv dev`` does, but with no reload and no
traceback pages: an uncaught exception answers a plain 500 and its traceback goes to the
log) and the v4 KV REST API under ``/cdn-cgi/edgekv/client/v4``. Without DIR it serves the
API alone, also at ``/client/v4`` (production's shape), with its state in ``--persist-to``
(default ``.edgekv`` in the current folder). The API always requires a credential (an API
token or a global API key: ``edgekv account create``, ``edgekv token create``).

``--store URL`` puts KV (and accounts, tokens, namespaces) in that store instead of the
state folder. With ``--store postgresql://...`` the server is one *location* of a cluster
(``--location NAME``): it caches reads in memory in front of the shared store, registers
itself and heartbeats, and with ``--primary`` holds the primary lease and alone runs cron
triggers and Durable Objects (``edgekv.server.location``, docs/cluster.md).

SIGINT/SIGTERM stop it gracefully: in-flight requests finish (up to
``--graceful-timeout`` seconds), then the stores are closed. ``--tls-cert``/``--tls-key``
serve HTTPS, since tokens travel in headers; or put it behind a reverse proxy (README).
"""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path
from typing import Any

import click

from edgekv.accounts import AccountRegistry
from edgekv.cli.dev import parse_vars
from edgekv.cli.output import banner, fail, info, warn
from edgekv.cli.project import load_project, project_flags, read_env_files
from edgekv.cli.run import run
from edgekv.config.lock import StateFolderLocked, StateLock
from edgekv.config.state import state_paths
from edgekv.errors import PrimaryLeaseHeld, StorageError
from edgekv.runtime.loader import WorkerLoadError, WorkerSetupError
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server import DevServer, bindings_table, resolve_host
from edgekv.server.console import LOG_LEVELS, configure_logging
from edgekv.server.management import (
    API_PREFIX,
    EXPLORER_PREFIX,
    ManagementPaths,
    api_context,
    register_config_namespaces,
)
from edgekv.storage import Store, open_store

__all__ = ["serve"]

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 10**6, "mb": 10**6,
          "mib": 1024**2, "g": 10**9, "gb": 10**9, "gib": 1024**3}


def parse_size(text: str) -> int:
    """Bytes in ``100MB``, ``25MiB``, ``1048576``. Raises ``click.BadParameter``."""
    match = _SIZE.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 100MB, 25MiB, 1048576)")
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


@click.command("serve")
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True))
@project_flags
@click.option("--ip", default="127.0.0.1", show_default=True,
              help="IP address to listen on (* for every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True,
              help="Port to listen on.")
@click.option("--var", "variables", multiple=True, metavar="KEY:VALUE",
              help="A key-value pair added to the Worker's env; repeatable.")
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Serve HTTPS with this certificate (PEM); needs --tls-key.")
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True), default=None,
              help="The private key (PEM) of --tls-cert.")
@click.option("--max-body-size", default="100MB", show_default=True, metavar="SIZE",
              help="Largest request body the API accepts (e.g. 100MB, 25MiB).")
@click.option("--graceful-timeout", type=click.FloatRange(0), default=30.0, show_default=True,
              help="Seconds in-flight requests get to finish on shutdown.")
@click.option("--log-level", type=click.Choice(list(LOG_LEVELS)), default="log",
              show_default=True, help="Which edgekv messages to print.")
@click.option("--store", "store_url", default=None, metavar="URL",
              help="KV store URL (postgresql://... makes this a cluster location).")
@click.option("--location", "location_name", default=None, metavar="NAME",
              help="This location's name in the cluster (default: the host name).")
@click.option("--primary", is_flag=True, default=False,
              help="Hold the primary lease: run cron triggers and Durable Objects here.")
@click.option("--read-store", "read_store_url", default=None, metavar="URL",
              help="A streaming replica of --store to read from.")
@click.option("--public-url", default=None, metavar="URL",
              help="The URL other locations reach this one at (default: the listening URL).")
def serve(directory: str | None, config_path: str | None, env_name: str | None, cwd: str | None,
          persist_to: str | None, ip: str, port: int, variables: tuple[str, ...],
          env_files: tuple[str, ...], tls_cert: str | None, tls_key: str | None,
          max_body_size: str, graceful_timeout: float, log_level: str, store_url: str | None,
          location_name: str | None, primary: bool, read_store_url: str | None,
          public_url: str | None) -> None:
    """Serve the KV REST API (and DIR's Worker, if given) for production use."""
    cluster = store_url is not None and store_url.startswith(("postgresql://", "postgres://"))
    if not cluster and (location_name or primary or read_store_url):
        fail("--location, --primary and --read-store need --store postgresql://...")
    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together: give both, or neither.")
    max_body = parse_size(max_body_size)
    base = Path(cwd).resolve() if cwd else Path.cwd()
    with_worker = directory is not None or config_path is not None
    config = None
    if with_worker:
        target = config_path or str((base / str(directory)).resolve())
        project = load_project(target, env_name, cwd, persist_to, env_files)
        config, state = project.config, project.state
    else:
        state = state_paths(None, persist_to, cwd=base)
        try:
            state.ensure()
        except OSError as exc:
            fail(f"Could not create the state folder {state.root}: {exc.strerror or exc}")
    files = tuple(base / Path(f) for f in env_files)
    overrides = {**read_env_files(files), **parse_vars(variables)}
    host = resolve_host(ip)
    lock = StateLock(state.root)
    try:  # before any store opens: one server per state folder (docs/reliability.md)
        lock.acquire()
    except StateFolderLocked as exc:
        fail(str(exc))
    configure_logging(log_level)
    banner(" serve")
    if config is not None:
        info(bindings_table(config, overrides))
        info("")

    async def main() -> None:
        runtime = None
        store: Store
        location = None
        kv_url = store_url or state.kv_url
        try:
            if cluster:
                from edgekv.server.location import ClusterLocation

                location = ClusterLocation(location_name or socket.gethostname(), kv_url,
                                           primary=primary, read_url=read_store_url)
                try:
                    await location.start(public_url or f"http://{host}:{port}")
                except BaseException:
                    await location.close()
                    raise
            if config is not None:
                runtime = await WorkerRuntime.open(
                    config, store_url=kv_url if location is None else state.kv_url,
                    do_store_url=state.do_url, state_dir=state.root, vars_override=overrides,
                    kv_store=location.store if location is not None else None,
                )
                runtime.show_tracebacks = False
                store = runtime.kv_store
                await register_config_namespaces(store, config)
            else:
                store = location.store if location is not None else open_store(kv_url)
            if not await AccountRegistry(store).list_accounts():
                warn("No account exists yet, so no request can authenticate. Create one with "
                     "`edgekv account create`, then a token with `edgekv token create --account ID`"
                     + (f" --persist-to {persist_to}" if persist_to else "") + ".")
        except (WorkerSetupError, WorkerLoadError, StorageError) as exc:
            if location is not None:  # give the lease and the registry entry back first
                await location.close()
            if isinstance(exc, PrimaryLeaseHeld):
                fail(f"Could not become the primary: {exc}.")
            if isinstance(exc, StorageError):
                fail(f"Could not open the state in {store_url or state.root}: {exc}")
            fail(str(exc))
        api = api_context(store, open_without_credential=False, max_body_bytes=max_body)
        on_close: list[Any] = [] if runtime is not None else [store.close]
        if location is not None:
            if runtime is not None and not location.primary:
                from edgekv.server.do_forwarding import PrimaryForwarder

                # No object runs here: stub calls go to the primary (docs/cluster.md).
                forwarder = PrimaryForwarder(location)
                runtime.durable_objects.remote = forwarder
                on_close.append(forwarder.close)
            on_close.append(location.close)
        announcing: set[asyncio.Task[None]] = set()
        api_root = API_PREFIX if runtime is not None else "/client/v4"

        def ready(url: str) -> None:
            lock.update(address=url)
            info(f"[edgekv:info] Ready on {url}")
            info(f"[edgekv:info] KV REST API (token required): {url}{api_root}")
            info(f"[edgekv:info] Data explorer (token required): {url}{EXPLORER_PREFIX}/")
            info(f"[edgekv:info] State: {state.root}")
            if location is not None:
                role = "primary" if location.primary else "not primary"
                info(f"[edgekv:info] Location {location.name} ({role}) of the cluster in {kv_url}")
                task = asyncio.get_running_loop().create_task(location.announce(public_url or url))
                announcing.add(task)
                task.add_done_callback(announcing.discard)

        server = DevServer(
            runtime, host=host, port=port, on_ready=ready, store=store,
            app_wrapper=lambda app: ManagementPaths(app, api, api_at_root=runtime is None,
                                                    runtime=runtime, location=location),
            ssl_certfile=tls_cert, ssl_keyfile=tls_key, on_close=on_close,
            graceful_shutdown_seconds=graceful_timeout, max_body_bytes=max_body,
            run_crons=location is None or location.primary,
        )
        try:
            await server.serve()
        except OSError as exc:
            fail(f"Could not listen on {host}:{port}: {exc.strerror or exc}. "
                 "Choose another port with --port.")

    try:
        run(main(), server=True)
    except KeyboardInterrupt:
        pass
    finally:
        lock.release()
