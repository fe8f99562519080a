"""``DevServer``: what ``edgekv dev`` runs — uvicorn serving a ``WorkerRuntime``.

- binds the socket itself (so "address in use" is a clean error, and ``port=0`` works), then
  runs uvicorn on it (``httptools`` when installed, writing each response in one go:
  ``coalescing.py``; the caller picks ``uvloop`` for the loop);
- calls ``on_ready(url)`` once uvicorn accepts connections;
- logs one line per request (``AccessLog``);
- reloads the Worker in process when a source file, the config or ``.dev.vars`` changes
  (watchfiles). ``load_config`` is called again first; a config error (or any other
  exception from a reload) is logged and the running Worker kept; the watcher goes on. The stores stay open, so no data is lost;
- sweeps expired KV records in the background (``sweep_forever``);
- fires the config's ``triggers.crons`` on schedule (``CronScheduler``; ``run_crons=False``
  turns that off, for the non-primary nodes of a cluster);
- SIGINT/SIGTERM stop it gracefully (a second SIGINT forces it): uvicorn drains open
  connections, then the runtime (Durable Objects, stores, Worker modules) is closed.
  :meth:`DevServer.serve` then returns normally; it never re-raises the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Generator, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from edgekv.config import Config
from edgekv.errors import ConfigError
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.access import AccessLog
from edgekv.server.coalescing import http_protocol
from edgekv.server.cron import CronScheduler
from edgekv.server.dateheader import DateHeader
from edgekv.server.limits import DEFAULT_MAX_BODY_BYTES, RequestLimits
from edgekv.server.management import not_found_app
from edgekv.server.memory import release_freed_heap
from edgekv.server.watch import WorkerFilter
from edgekv.storage import Store, sweep_forever

__all__ = ["DevServer", "bind_socket", "display_url", "resolve_host"]

logger = logging.getLogger("edgekv.dev")


def resolve_host(ip: str) -> str:
    """The address to bind: wrangler's default ``localhost`` means ``127.0.0.1``; ``*`` all."""
    if ip in ("localhost", ""):
        return "127.0.0.1"
    if ip == "*":
        return "0.0.0.0"
    return ip.strip("[]")


def display_url(host: str, port: int, *, tls: bool = False) -> str:
    """``http://host:port`` (``https`` with TLS) with IPv6 hosts bracketed."""
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound (not yet listening) TCP socket. Raises ``OSError`` (e.g. address in use)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _ws_impl() -> str:
    # WebSocket upgrades reach the Worker (WebSocketPair, Durable Object hibernation).
    try:
        import websockets  # noqa: F401
    except ImportError:
        try:
            import wsproto  # noqa: F401
        except ImportError:
            return "none"
        return "wsproto"
    return "websockets-sansio"


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture (it re-raises SIGINT after shutdown)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class DevServer:
    """Serve ``runtime`` on ``host:port`` until a signal (see module docstring).

    ``edgekv serve`` uses it too: ``app_wrapper`` puts edgekv's own paths in front of the
    Worker (``ManagementPaths``; its own answers must carry a ``Date``, which uvicorn does not
    add here), ``runtime=None`` serves no Worker (the API alone, sweeping
    ``store``), ``ssl_certfile``/``ssl_keyfile`` turn on TLS, ``on_close`` callbacks run
    after the runtime closed. Every request to the Worker passes ``RequestLimits`` (body size,
    client disconnect, quiet shutdown; ``max_body_bytes``); the paths of ``app_wrapper`` are
    in front of it and keep their own limits.
    """

    def __init__(
        self,
        runtime: WorkerRuntime | None,
        *,
        host: str = "127.0.0.1",
        port: int = 8787,
        watch_paths: Sequence[Path] = (),
        ignore_paths: Sequence[Path] = (),
        reload_config: Callable[[], Config] | None = None,
        on_ready: Callable[[str], None] | None = None,
        sweep_interval_seconds: float = 60.0,
        watch_debounce_ms: int = 200,
        app_wrapper: Callable[[Any], Any] | None = None,
        store: Store | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        on_close: Sequence[Callable[[], Awaitable[None]]] = (),
        graceful_shutdown_seconds: float = 5.0,
        run_crons: bool = True,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.runtime = runtime
        objects = getattr(runtime, "durable_objects", None)
        if objects is not None:  # this process's memory is the server's to manage
            objects.on_evicted = release_freed_heap
        self.app_wrapper = app_wrapper
        self.store = store if store is not None else (runtime.kv_store if runtime else None)
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile = ssl_keyfile
        self.on_close = tuple(on_close)
        self.graceful_shutdown_seconds = graceful_shutdown_seconds
        self.max_body_bytes = max_body_bytes
        self.host = host
        self.port = port
        self.watch_paths = tuple(watch_paths)
        self.ignore_paths = tuple(ignore_paths)
        self.reload_config = reload_config
        self.on_ready = on_ready
        self.sweep_interval_seconds = sweep_interval_seconds
        self.watch_debounce_ms = watch_debounce_ms
        #: Fire ``triggers.crons`` on schedule (a cluster sets this on its primary only).
        self.run_crons = run_crons
        self.crons = CronScheduler(runtime) if runtime is not None else None
        self.url: str | None = None
        self._server: _Server | None = None
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Ask the server to shut down gracefully (a second call forces it)."""
        server = self._server
        if server is not None:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True
        self._stop.set()

    async def serve(self) -> None:
        """Bind, serve until stopped, close everything. Raises ``OSError`` if binding fails.

        The runtime is closed on return, whatever happens.
        """
        try:
            sock = bind_socket(self.host, self.port)
        except BaseException:
            await self._close()
            raise
        port = sock.getsockname()[1]
        self.url = display_url(self.host, port, tls=self.ssl_certfile is not None)
        # Every response leaves with one Date: the Worker runtime adds its own (send_response),
        # ManagementPaths dates edgekv's own answers, RequestLimits its 413s, and the 404 app is
        # wrapped here. The Worker's path is not wrapped: it is the hot path and never lacks a
        # Date. The limits guard the Worker; edgekv's own paths (app_wrapper) answer oversized
        # bodies themselves, with the REST API's JSON errors.
        limits = RequestLimits(
            self.runtime.asgi_app if self.runtime is not None else DateHeader(not_found_app),
            max_body_bytes=self.max_body_bytes,
        )
        app: Any = self.app_wrapper(limits) if self.app_wrapper is not None else limits
        config = uvicorn.Config(
            AccessLog(app),
            http=http_protocol(),  # one socket write per response (coalescing.py)
            ws=_ws_impl(),
            # The runtime adds Date when the Worker's response has none (send_response), so
            # a response fetched from an upstream is not sent with two Date headers.
            date_header=False,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            # uvicorn annotates int but only passes it to asyncio.timeout(), which takes a float
            timeout_graceful_shutdown=self.graceful_shutdown_seconds,  # type: ignore[arg-type]
            ssl_certfile=self.ssl_certfile,
            ssl_keyfile=self.ssl_keyfile,
        )
        server = self._server = _Server(config)
        loop = asyncio.get_running_loop()
        signals = self._install_signals(loop)
        helpers = [asyncio.create_task(self._sweep(), name="edgekv-sweep")]
        if self.watch_paths:
            helpers.append(asyncio.create_task(self._watch(), name="edgekv-watch"))
        if self.run_crons and self.crons is not None:
            helpers.append(asyncio.create_task(self.crons.run_forever(), name="edgekv-cron"))
        serving = asyncio.create_task(server.serve(sockets=[sock]), name="edgekv-uvicorn")
        try:
            while not server.started and not serving.done():
                await asyncio.sleep(0.01)
            if server.started and self.on_ready is not None:
                self.on_ready(self.url)
            await serving
        finally:
            if not serving.done():
                server.should_exit = True
                with contextlib.suppress(BaseException):
                    await serving
            for task in helpers:
                task.cancel()
            for task in helpers:
                with contextlib.suppress(BaseException):
                    await task
            for sig in signals:
                loop.remove_signal_handler(sig)
            limits.close()
            sock.close()
            await self._close()

    async def _close(self) -> None:
        try:
            if self.runtime is not None:
                await self.runtime.close()
        finally:
            for callback in self.on_close:
                await callback()

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> list[int]:
        installed: list[int] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.stop)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                continue
            installed.append(sig)
        return installed

    async def _sweep(self) -> None:
        if self.store is not None:
            await sweep_forever(self.store, self.sweep_interval_seconds)

    async def _watch(self) -> None:
        from watchfiles import awatch

        watch_filter = WorkerFilter(ignore=self.ignore_paths)
        async for changes in awatch(
            *self.watch_paths,
            watch_filter=watch_filter,
            debounce=self.watch_debounce_ms,
            step=50,
            stop_event=self._stop,
        ):
            names = sorted({Path(path).name for _, path in changes})
            logger.info("Reloading local server... (%s changed)", ", ".join(names))
            try:
                await self.reload()
            except Exception as exc:
                # Whatever a save breaks (an unreadable file, a storage fault while reloading),
                # the last good Worker keeps serving and the next save is reloaded again.
                logger.error("Reload failed (%s: %s); still serving the last good version.",
                             type(exc).__name__, exc, exc_info=logger.isEnabledFor(logging.DEBUG))

    async def reload(self) -> bool:
        """Reload config and Worker now; True when the new code loaded."""
        config = None
        if self.reload_config is not None:
            try:
                config = self.reload_config()
            except ConfigError as exc:
                logger.error("The configuration is invalid; keeping the running Worker.\n%s", exc)
                return False
        if self.runtime is None:
            return False
        error = await self.runtime.reload(config)
        if error is None:
            logger.info("Local server updated and ready")
            return True
        return False
