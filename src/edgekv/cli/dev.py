"""``edgekv dev [DIR]``: serve a Python Worker locally, like ``wrangler dev``.

DIR is the project folder (the config is searched from there upward, as wrangler does from
the cwd); ``-c/--config`` names the file instead. State lives where ``edgekv kv`` keeps it
(``.edgekv`` next to the config, or ``--persist-to``), so data written with ``edgekv kv key
put --binding X`` is what the Worker reads.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import click

from edgekv.cli.output import banner, fail, info
from edgekv.cli.project import load_project, project_flags
from edgekv.cli.run import run
from edgekv.config import Config, load_config
from edgekv.config.lock import StateFolderLocked, StateLock
from edgekv.config.starter import starter_config, worker_name
from edgekv.errors import ConfigError
from edgekv.runtime.env import parse_var
from edgekv.runtime.loader import WorkerSetupError
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server import DevServer, bindings_table, resolve_host
from edgekv.server.console import LOG_LEVELS, configure_logging
from edgekv.server.guard import LoopbackGuard
from edgekv.server.limits import parse_size
from edgekv.server.management import (
    API_PREFIX,
    EXPLORER_PREFIX,
    ManagementPaths,
    api_context,
    register_config_namespaces,
)
from edgekv.strict import StrictMode

__all__ = ["dev", "parse_vars"]


def parse_vars(values: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for text in values:
        try:
            key, value = parse_var(text)
        except ValueError as exc:
            fail(str(exc))
        parsed[key] = value
    return parsed


@click.command("dev")
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True))
@project_flags
@click.option("--ip", default=None, help="IP address to listen on (default: dev.ip, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on (default: dev.port, 8787).")
@click.option("--var", "variables", multiple=True, metavar="KEY:VALUE",
              help="A key-value pair added to env (overrides vars and .dev.vars); repeatable.")
@click.option("--log-level", type=click.Choice(list(LOG_LEVELS)), default="log",
              show_default=True,
              help="Which edgekv messages to print; 'warn' and above drop the per-request lines.")
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="Reload the Worker when its files, config or .dev.vars change.")
@click.option("--strict", is_flag=True, default=False,
              help="Warn, with file and line, about what would fail on Cloudflare's Python "
                   "Workers: native imports Pyodide lacks, threads, subprocesses, blocking "
                   "calls, CPU or memory over the limits, randomness or time at import.")
@click.option("--test-scheduled", is_flag=True, default=False,
              help="Run scheduled() on GET /__scheduled?cron=... (as wrangler dev does).")
@click.option("--max-body-size", default="100MB", show_default=True, metavar="SIZE",
              help="Largest request body accepted (bytes, or with KB/MB/KiB/MiB); larger gets 413.")
def dev(directory: str | None, config_path: str | None, env_name: str | None, cwd: str | None,
        persist_to: str | None, ip: str | None, port: int | None, variables: tuple[str, ...],
        watch: bool, log_level: str, strict: bool, test_scheduled: bool = False,
        max_body_size: str = "100MB", env_files: tuple[str, ...] = ()) -> None:
    """Serve the Python Worker of DIR (default: the current folder) on 127.0.0.1:8787."""
    base = Path(cwd).resolve() if cwd else Path.cwd()
    if config_path is None and directory is not None:
        config_path_or_dir: str | None = str((base / directory).resolve())
    else:
        config_path_or_dir = config_path
    project = load_project(config_path_or_dir, env_name, cwd, persist_to, env_files)
    config = project.config
    if config.config_path is None:
        folder = Path(config_path_or_dir) if config_path_or_dir else base
        fail(f"No wrangler.toml, wrangler.json or wrangler.jsonc in {folder} or its parents.\n"
             "Create a project with `edgekv init`, or save this as wrangler.toml:\n\n"
             + starter_config(worker_name(folder)).rstrip("\n"))
    overrides = {**project.env_file_values(), **parse_vars(variables)}
    try:
        max_body_bytes = parse_size(max_body_size)
    except ValueError as exc:
        fail(f"--max-body-size: {exc}")
    target = Path(config_path_or_dir) if config_path_or_dir else base
    if not target.is_absolute():
        target = base / target

    def reload_config() -> Config:
        return load_config(target, env=env_name, cwd=base)

    host = resolve_host(ip if ip is not None else config.dev.ip)
    chosen_port = port if port is not None else config.dev.effective_port
    state = project.state
    lock = StateLock(state.root)
    try:  # before any store opens: one server per state folder (docs/reliability.md)
        lock.acquire()
    except StateFolderLocked as exc:
        fail(str(exc))
    configure_logging(log_level)
    _print_banner(config, overrides)
    watch_paths = _watch_paths(config, base) if watch else []
    debug = logging.getLogger("edgekv.dev")
    debug.debug("Config file: %s%s", config.config_path, f" (env {config.env})" if config.env else "")
    debug.debug("Worker entry: %s", config.main_path)
    debug.debug("State folder: %s (KV %s, Durable Objects %s)", state.root, state.kv_db.name,
                state.do_db.name)
    debug.debug("Watched for reloads: %s", ", ".join(str(p) for p in watch_paths) or "nothing (--no-watch)")

    def ready(url: str) -> None:
        lock.update(address=url)
        info(f"[edgekv:info] Ready on {url}\n"
             f"[edgekv:info] KV REST API (open locally, no token needed): {url}{API_PREFIX}\n"
             f"[edgekv:info] Data explorer: {url}{EXPLORER_PREFIX}/")

    async def main() -> None:
        checker = StrictMode.for_config(config) if strict else None
        try:
            with checker.importing() if checker is not None else contextlib.nullcontext():
                runtime = await WorkerRuntime.open(
                    config,
                    store_url=state.kv_url,
                    do_store_url=state.do_url,
                    state_dir=state.root,
                    vars_override=overrides,
                    tolerate_load_errors=True,
                )
        except WorkerSetupError as exc:
            fail(str(exc))
        runtime.test_scheduled = test_scheduled
        if checker is not None:
            checker.attach(runtime)
            info("[edgekv:info] Strict mode: warning about what would fail on Cloudflare's "
                 "Python Workers")
        await register_config_namespaces(runtime.kv_store, config)
        api = api_context(runtime.kv_store, open_without_credential=True)
        guard = LoopbackGuard([host])
        server = DevServer(
            runtime,
            host=host,
            port=chosen_port,
            watch_paths=watch_paths,
            ignore_paths=[state.root],
            reload_config=reload_config,
            on_ready=ready,
            app_wrapper=lambda app: ManagementPaths(
                checker.wrap(app) if checker is not None else app, api, guard=guard,
                runtime=runtime),
            on_close=[_closer(checker)] if checker is not None else [],
            max_body_bytes=max_body_bytes,
        )
        try:
            await server.serve()
        except OSError as exc:
            fail(f"Could not listen on {host}:{chosen_port}: {exc.strerror or exc}. "
                 "Choose another port with --port.")

    try:
        run(main(), server=True)
    except ConfigError as exc:  # pragma: no cover - load_project reports these first
        fail(str(exc))
    except KeyboardInterrupt:  # a signal before the server installed its handlers
        pass
    finally:
        lock.release()


def _closer(checker: StrictMode) -> Any:
    async def close() -> None:
        checker.close()

    return close


def _print_banner(config: Config, overrides: dict[str, str]) -> None:
    banner()
    if config.secret_sources:
        names = ", ".join(path.name for path in config.secret_sources)
        info(f"Using secrets defined in {names}")
    info(bindings_table(config, overrides))
    info("")
    if config.assets is not None and config.assets.directory is not None:
        info(f"Serving static assets from {config.assets.directory} in front of the Worker")
    if config.crons:
        info(f"Cron triggers {', '.join(repr(c) for c in config.crons)} fire on schedule (UTC); "
             "run one now with GET /cdn-cgi/handler/scheduled?cron=...")
    if config.assets is not None or config.crons:
        info("")


def _watch_paths(config: Config, base: Path) -> list[Path]:
    roots: list[Path] = [config.config_dir or base]
    main = config.main_path
    if main is not None and not main.parent.is_relative_to(roots[0]):
        roots.append(main.parent)
    return [root for root in roots if root.is_dir()]
