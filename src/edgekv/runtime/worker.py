"""``WorkerRuntime``: one loaded Worker with its bindings, served as an ASGI app.

This is the object the dev server and the pytest plugin share::

    runtime = await WorkerRuntime.open(config)                       # state from config
    runtime = await WorkerRuntime.open(config, store_url="memory://",  # tests
                                       clock=FakeClock())
    runtime.env.TODO                   # bindings (edgekv.runtime.env.Env)
    transport = httpx.ASGITransport(app=runtime.asgi_app)
    response = await runtime.fetch("http://localhost/path")          # in-process, raises
    await runtime.wait_background()    # let ctx.waitUntil work finish
    error = await runtime.reload()     # re-import the Worker (None, or the WorkerLoadError)
    await runtime.close()              # idempotent

``open(config, *, store_url=None, do_store_url=None, state_dir=None, clock=None,
vars_override=None, limits=DEFAULT_LIMITS, do_limits=DEFAULT_DO_LIMITS,
idle_timeout_seconds=70.0, tolerate_load_errors=False)``:

- storage: with no ``store_url``, KV lives at ``config.state_paths().kv_url``, Durable Objects
  at ``.do_url`` and per-object SQLite files under ``<root>/do/`` (the folder ``edgekv kv``
  uses too). With a ``store_url``, ``do_store_url`` defaults to *the same store object* and
  ``state_dir`` to a temporary folder removed by ``close()``. ``state_dir`` is the state root:
  SQLite-backed objects live in ``<state_dir>/do/<worker>-<Class>/<id>.sqlite3``.
- ``vars_override`` (``--var``) wins over ``vars`` and ``.dev.vars`` secrets.
- raises ``WorkerSetupError`` when ``main`` is missing or not a ``.py`` file. If the Worker's
  code fails to import, raises ``WorkerLoadError`` unless ``tolerate_load_errors`` (the dev
  server): then ``load_error`` is set and every request answers the 500 error page until
  :meth:`reload` succeeds.

Attributes: ``config``, ``clock``, ``env``, ``worker`` (``WorkerModule`` or None),
``load_error``, ``kv_store``, ``do_store``, ``durable_objects`` (``DurableObjectRuntime``).

Per request (Cloudflare's semantics, kept cheap): a new ``Context`` and a new ``Default(ctx,
env)`` instance (workerd constructs the entrypoint class per request), ``fetch`` called
relaxed (``async def fetch(self)`` works), or legacy ``on_fetch(request, env, ctx)`` called
with as many arguments as it takes. ``workers.env``/``wait_until`` are bound for the
request. ``ctx.waitUntil`` work keeps running after the response is sent; a background task
awaits it and logs its errors (``edgekv.runtime`` logger); :meth:`wait_background` waits for
it. ``passThroughOnException()`` is accepted (there is no origin to pass through to locally).

Errors: :meth:`fetch` raises what the Worker raised. The ASGI app answers an uncaught
exception with a 500 HTML page showing the traceback of the Worker's code (no edgekv
frames, html-escaped) and logs the same traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import inspect
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CoroutineType
from typing import Any, Self
from urllib.parse import parse_qs

from edgekv.asgi_types import Receive, Scope, Send
from edgekv.clock import SYSTEM_CLOCK, Clock
from edgekv.config import Config
from edgekv.durable_objects import (
    DEFAULT_DO_LIMITS,
    DurableObjectLimits,
    DurableObjectRuntime,
)
from edgekv.kv import KVNamespace
from edgekv.limits import DEFAULT_LIMITS, Limits
from edgekv.runtime.asgi_server import send_response
from edgekv.runtime.assets import AssetsBinding, AssetServer
from edgekv.runtime.context import Context, bind, drop_default_env, set_default_env, unbind
from edgekv.runtime.dependencies import (
    DependencyError,
    install_python_modules,
    resolve_dependencies,
)
from edgekv.runtime.entrypoints import call_relaxed, takes_all
from edgekv.runtime.env import (
    Env,
    add_binding,
    add_d1_databases,
    add_durable_objects,
    add_workflows,
    build_env,
)
from edgekv.runtime.loader import (
    WorkerLoadError,
    WorkerModule,
    WorkerSetupError,
    check_main,
    load_worker,
    unload_worker,
)
from edgekv.runtime.tracebacks import error_page_html, user_traceback
from edgekv.runtime.web.request import Request
from edgekv.runtime.web.resources import WorkerResources, bind_owner, unbind_owner
from edgekv.runtime.web.response import Response
from edgekv.runtime.web.websocket import accept_and_serve
from edgekv.storage import Store, open_store

__all__ = [
    "NOT_A_RESPONSE",
    "NO_FETCH_HANDLER",
    "NO_SCHEDULED_HANDLER",
    "ScheduledController",
    "ScheduledOutcome",
    "WorkerRuntime",
]

logger = logging.getLogger("edgekv.runtime")

NO_FETCH_HANDLER = "Handler does not export a fetch() function."
NO_SCHEDULED_HANDLER = "Handler does not export a scheduled() function"
NOT_A_RESPONSE = (
    "Incorrect type for Promise: the Promise did not resolve to 'Response'."
)
_HTML = [(b"content-type", b"text/html; charset=utf-8")]
# The paths ``_special_route`` may answer; every other request skips it.
_SPECIAL_PATHS = frozenset({"/cdn-cgi/handler/scheduled", "/__scheduled"})

Invoker = Callable[[Request, Env, Context], Awaitable[Any]]


class ScheduledController:
    """What ``scheduled(controller, env, ctx)`` receives: ``cron``, ``scheduledTime`` (ms)."""

    def __init__(self, cron: str, scheduled_time_ms: int) -> None:
        self.cron = cron
        self.scheduledTime = scheduled_time_ms
        self.type = "scheduled"
        self._no_retry = False

    @property
    def scheduled_time(self) -> int:
        return self.scheduledTime

    def noRetry(self) -> None:
        """Ask not to retry this event (recorded; edgekv never retries)."""
        self._no_retry = True

    no_retry = noRetry

    def __repr__(self) -> str:
        return f"ScheduledController(cron={self.cron!r}, scheduledTime={self.scheduledTime})"


@dataclass(frozen=True)
class ScheduledOutcome:
    """The result of one scheduled event: ``"ok"`` or ``"exception"``, and ``noRetry()``."""

    outcome: str
    no_retry: bool = False


def _request_factory(resource: Any, init: Any) -> Request:
    """``stub.fetch(url, init)``: build the Request like JavaScript's ``new Request``."""
    options = dict(init or {})
    return Request(resource, **options)


class WorkerRuntime:
    """A loaded Worker, its bindings and storage (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        *,
        kv_store: Store,
        do_store: Store,
        durable_objects: DurableObjectRuntime,
        clock: Clock,
        vars_override: Mapping[str, Any] | None,
        limits: Limits,
    ) -> None:
        self.config = config
        self.clock = clock
        self.kv_store = kv_store
        self.do_store = do_store
        self.durable_objects = durable_objects
        self.limits = limits
        self.vars_override = dict(vars_override or {})
        self.env: Env = Env()
        self.worker: WorkerModule | None = None
        self.load_error: WorkerLoadError | None = None
        self.wait_until_timeout_seconds: float | None = None
        self.assets: AssetServer | None = None
        #: ``dev --test-scheduled``: ``/__scheduled?cron=...`` runs ``scheduled()``.
        self.test_scheduled = False
        self._invoke: Invoker = self._failed
        self._kv_cache: dict[str, KVNamespace] = {}
        self._source_dir: Path | None = None
        # A folder already on sys.path before this runtime (a test suite's, say) stays there.
        self._keep_path = False
        self._background: set[asyncio.Task[Any]] = set()
        #: The HTTP pool, ASGI lifespans and tasks opened for this Worker; closed with it.
        self.resources = WorkerResources()
        self._closed = False
        # D1 databases (local id -> D1Database) and Workflows, kept across reloads.
        self._d1_cache: dict[str, Any] = {}
        self._workflows: Any = None

    # -- opening and closing --------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        config: Config,
        *,
        store_url: str | None = None,
        do_store_url: str | None = None,
        state_dir: str | Path | None = None,
        clock: Clock | None = None,
        vars_override: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        do_limits: DurableObjectLimits = DEFAULT_DO_LIMITS,
        idle_timeout_seconds: float = 70.0,
        tolerate_load_errors: bool = False,
        kv_store: Store | None = None,
    ) -> Self:
        """Open the stores, load the Worker, start Durable Objects (see module docstring).

        ``kv_store``: an already open store for KV (a cluster location's edge cache) used
        instead of opening ``store_url``; Durable Objects then use ``do_store_url`` (required).
        The runtime closes it on ``close`` like a store it opened."""
        check_main(config.main_path, config.main)
        clock = clock or SYSTEM_CLOCK
        if store_url is None:
            paths = config.state_paths()
            store_url = paths.kv_url
            do_store_url = do_store_url or paths.do_url
            state_dir = state_dir if state_dir is not None else paths.root
        if kv_store is None:
            kv_store = open_store(store_url, clock=clock)
        elif do_store_url is None:
            raise ValueError("kv_store= needs do_store_url= for Durable Object storage")
        shared = do_store_url is None or do_store_url == store_url
        do_store = kv_store if shared else open_store(str(do_store_url), clock=clock)
        do_runtime = DurableObjectRuntime(
            do_store,
            str(state_dir) if state_dir is not None else None,
            clock=clock,
            limits=do_limits,
            idle_timeout_seconds=idle_timeout_seconds,
            compatibility_date=getattr(config, "compatibility_date", None),
            compatibility_flags=getattr(config, "compatibility_flags", ()),
            # Requests and responses cross Durable Object RPC by reference (stub.fetch(request)).
            passthrough_types=(Request, Response),
        )
        do_runtime.set_request_factory(_request_factory)
        self = cls(
            config,
            kv_store=kv_store,
            do_store=do_store,
            durable_objects=do_runtime,
            clock=clock,
            vars_override=vars_override,
            limits=limits,
        )
        try:
            await self._prepare_dependencies()
            self._load()
            if self.load_error is not None and not tolerate_load_errors:
                raise self.load_error
            owner = bind_owner(self.resources)  # alarm tasks started here inherit it
            try:
                await do_runtime.start()
            finally:
                unbind_owner(owner)
            if self._workflows is not None:
                await self._workflows.resume()
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Wait briefly for ``waitUntil`` work, then close Durable Objects, stores, modules.

        Idempotent. The Worker's modules are evicted from ``sys.modules`` and its folder
        leaves ``sys.path`` (unless it was there before the runtime opened).
        """
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            await self.wait_background(timeout_seconds=5.0)
        for task in list(self._background):
            task.cancel()
        try:
            if self._workflows is not None:
                await self._workflows.close()
            for db in self._d1_cache.values():
                await asyncio.to_thread(db.close)
            await self.durable_objects.close()
        finally:
            await self.kv_store.close()
            if self.do_store is not self.kv_store:
                await self.do_store.close()
            await self.resources.close()
            if self._source_dir is not None:
                unload_worker(self._source_dir, remove_path=not self._keep_path)
            drop_default_env(self.env)  # workers.env must not outlive its stores

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- loading --------------------------------------------------------------------------

    async def reload(self, config: Config | None = None) -> WorkerLoadError | None:
        """Re-import the Worker from source (and adopt ``config`` if given).

        Stores stay open, so no data is lost; live Durable Objects are reset at their next
        event. Returns the load error (also kept in ``load_error``), or None on success.
        Requests already running finish with the code they started with.
        """
        if self._closed:
            raise RuntimeError("the Worker runtime is closed")
        if config is not None:
            self.config = config
        try:
            await self._prepare_dependencies()
        except WorkerSetupError as exc:
            logger.error("%s", exc)
        self._load()
        return self.load_error

    async def _prepare_dependencies(self) -> None:
        """``pyproject.toml`` dependencies and ``python_modules/`` (runtime.dependencies)."""
        config = self.config
        main_path = config.main_path
        project_dir = config.config_dir or (main_path.parent if main_path else None)
        if project_dir is None:
            return
        try:
            await asyncio.to_thread(resolve_dependencies, project_dir,
                                    config.state_paths().root)
        except DependencyError as exc:
            raise WorkerSetupError(str(exc)) from exc
        install_python_modules(project_dir)

    def _workflow_registry(self) -> Any:
        if self._workflows is None and self.config.workflows:
            from edgekv.config.state import workflows_db_path
            from edgekv.runtime.workflows import WorkflowRegistry

            self._workflows = WorkflowRegistry(workflows_db_path(self.durable_objects.state_dir))
        return self._workflows

    def _load(self) -> None:
        config = self.config
        env = build_env(
            config,
            self.kv_store,
            vars_override=self.vars_override,
            limits=self.limits,
            kv_cache=self._kv_cache,
        )
        add_d1_databases(env, config, self.durable_objects.state_dir, self._d1_cache)
        # Module-level code may read ``workers.env`` while importing.
        set_default_env(env)
        worker: WorkerModule | None = None
        error: WorkerLoadError | None = None
        main_path = config.main_path
        new_dir = main_path.resolve().parent if main_path is not None else None
        if self._source_dir is not None and self._source_dir != new_dir:
            unload_worker(self._source_dir, remove_path=not self._keep_path)
        if new_dir is not None and new_dir != self._source_dir:
            self._keep_path = str(new_dir) in sys.path
        self._source_dir = new_dir
        try:
            with self.load_context() if self.load_context is not None else contextlib.nullcontext():
                worker = load_worker(check_main(main_path, config.main))
            add_durable_objects(env, config, worker, self.durable_objects)
            add_workflows(env, config, worker, self._workflow_registry())
        except WorkerSetupError as exc:
            error = WorkerLoadError(str(exc), path=main_path or Path("?"))
        except WorkerLoadError as exc:
            error = exc
        if error is not None:
            worker = None
            logger.error("The Worker failed to load:\n%s", error.traceback_text.rstrip())
        self.assets = None
        if config.assets is not None and config.assets.directory is not None:
            self.assets = AssetServer(config.assets, has_worker=True)
            if config.assets.binding:
                add_binding(env, config.assets.binding, AssetsBinding(self.assets, Request))
        self.durable_objects.set_env(env)
        self.env = env
        self.worker = worker
        self.load_error = error
        self._invoke = self._make_invoker(worker)

    def _make_invoker(self, worker: WorkerModule | None) -> Invoker:
        if worker is None:
            return self._failed
        default = worker.default
        if default is not None:
            cls = default
            # fetch(self, request) as a plain function of the class (the usual case) is
            # called directly; anything else (fetch(self), a callable attribute) relaxed.
            fetch = getattr(cls, "fetch", None)
            direct = fetch if inspect.isfunction(fetch) and takes_all(fetch, 2) else None

            async def invoke_default(request: Request, env: Env, ctx: Context) -> Any:
                instance = cls(ctx, env)  # per request, as workerd does
                handler = getattr(instance, "fetch", None)
                if handler is None:
                    raise TypeError(NO_FETCH_HANDLER)
                if direct is not None and getattr(handler, "__func__", None) is direct:
                    result = handler(request)
                else:
                    result = call_relaxed(handler, request)
                if type(result) is CoroutineType or inspect.isawaitable(result):
                    result = await result
                return result

            return invoke_default
        on_fetch = worker.on_fetch
        if on_fetch is not None:
            legacy = on_fetch

            async def invoke_legacy(request: Request, env: Env, ctx: Context) -> Any:
                result = call_relaxed(legacy, request, env, ctx)
                if inspect.isawaitable(result):
                    result = await result
                return result

            return invoke_legacy

        async def invoke_missing(request: Request, env: Env, ctx: Context) -> Any:
            raise TypeError(NO_FETCH_HANDLER)

        return invoke_missing

    async def _failed(self, request: Request, env: Env, ctx: Context) -> Any:
        assert self.load_error is not None
        raise self.load_error

    # -- requests ---------------------------------------------------------------------------

    async def fetch(self, resource: Request | str, **init: Any) -> Response:
        """Send one request to the Worker in process (no HTTP) and return its ``Response``.

        ``resource`` is a ``Request`` or a URL (``init`` as for ``Request``). Raises what the
        Worker raises (a ``WorkerLoadError`` if it failed to load), and ``TypeError`` if it
        returns something other than a ``Response``. ``waitUntil`` work continues in the
        background (see :meth:`wait_background`).
        """
        request = resource if isinstance(resource, Request) and not init else Request(
            resource, **init
        )
        assets = self.assets
        if assets is not None and assets.route(request):
            return await assets.fetch(request)
        env = self.env
        ctx = Context()
        token = bind(env, ctx)
        owner = bind_owner(self.resources)
        try:
            response = await self._invoke(request, env, ctx)
        finally:
            unbind_owner(owner)
            unbind(token)
            if ctx.has_pending:
                self._drain_later(ctx)
        if not isinstance(response, Response):
            raise TypeError(NOT_A_RESPONSE)
        return response

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application: one HTTP request to the Worker (lifespan accepted)."""
        kind = scope["type"]
        if kind != "http":
            await self._non_http(kind, scope, receive, send)
            return
        env = self.env
        ctx = Context()
        request = Request.from_asgi(scope, receive)
        head = scope["method"] == "HEAD"
        if scope.get("path") in _SPECIAL_PATHS:
            special = await self._special_route(scope, request)
            if special is not None:
                await send_response(special, send, head=head)
                return
        # The binding stays set while the body is sent: a streamed body may read workers.env.
        token = bind(env, ctx)
        owner = bind_owner(self.resources)
        try:
            try:
                assets = self.assets
                if assets is not None and assets.route(request):
                    response = await assets.fetch(request)
                else:
                    response = await self._invoke(request, env, ctx)
                if not isinstance(response, Response):
                    raise TypeError(NOT_A_RESPONSE)
            except Exception as exc:  # noqa: BLE001 - any Worker error becomes the 500 page
                response = self._error_response(exc, scope)
            try:
                await send_response(response, send, head=head)
            except OSError as exc:  # the Worker returned a response whose body it had read
                await send_response(self._error_response(exc, scope), send)
        finally:
            unbind_owner(owner)
            unbind(token)
            if ctx.has_pending:
                self._drain_later(ctx)

    async def _special_route(self, scope: Scope, request: Request) -> Response | None:
        """``/cdn-cgi/handler/scheduled`` (always) and ``/__scheduled`` (``--test-scheduled``)."""
        path = scope.get("path", "")
        if path == "/cdn-cgi/handler/scheduled":
            params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            time_text = params.get("time", [None])[0]
            outcome = await self.run_scheduled(
                params.get("cron", [""])[0],
                int(time_text) / 1000 if time_text and time_text.isdigit() else None,
            )
            status = 200 if outcome.outcome == "ok" else 500
            if params.get("format", [None])[0] == "json":
                return Response.json({"outcome": outcome.outcome, "noRetry": outcome.no_retry},
                                     status=status)
            return Response(outcome.outcome, status=status)
        if path == "/__scheduled" and self.test_scheduled:
            params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            await self.run_scheduled(params.get("cron", [""])[0])
            return Response("Ran scheduled event")
        return None

    # -- scheduled ----------------------------------------------------------------------------

    async def scheduled(
        self, cron: str = "", scheduled_time: float | _dt.datetime | None = None
    ) -> ScheduledOutcome:
        """Run the Worker's ``scheduled(controller, env, ctx)`` once; raise what it raises.

        ``scheduled_time`` is epoch seconds or a datetime (default: now, from the clock).
        Returns the outcome (``noRetry()`` recorded). ``waitUntil`` work continues in the
        background. Raises ``TypeError`` when the Worker has no scheduled handler.
        """
        if isinstance(scheduled_time, _dt.datetime):
            seconds = scheduled_time.timestamp()
        elif scheduled_time is None:
            seconds = self.clock.now()
        else:
            seconds = float(scheduled_time)
        controller = ScheduledController(cron, int(seconds * 1000))
        env = self.env
        ctx = Context()
        token = bind(env, ctx)
        owner = bind_owner(self.resources)
        try:
            await self._invoke_scheduled(controller, env, ctx)
        finally:
            unbind_owner(owner)
            unbind(token)
            if ctx.has_pending:
                self._drain_later(ctx)
        return ScheduledOutcome("ok", controller._no_retry)

    async def run_scheduled(
        self, cron: str = "", scheduled_time: float | None = None
    ) -> ScheduledOutcome:
        """:meth:`scheduled`, but an exception is logged and reported as ``"exception"``."""
        try:
            return await self.scheduled(cron, scheduled_time)
        except Exception as exc:  # noqa: BLE001 - reported like workerd: outcome "exception"
            logger.error("Uncaught exception in scheduled(%r):\n%s", cron,
                         user_traceback(exc).rstrip())
            return ScheduledOutcome("exception", False)

    async def _invoke_scheduled(
        self, controller: ScheduledController, env: Env, ctx: Context
    ) -> None:
        worker = self.worker
        if worker is None:
            assert self.load_error is not None
            raise self.load_error
        if worker.default is not None:
            handler = getattr(worker.default(ctx, env), "scheduled", None)
            if handler is None:
                raise TypeError(NO_SCHEDULED_HANDLER)
            result = call_relaxed(handler, controller, env, ctx)
        else:
            legacy = getattr(worker.module, "on_scheduled", None)
            if legacy is None:
                raise TypeError(NO_SCHEDULED_HANDLER)
            result = call_relaxed(legacy, controller, env, ctx)
        if inspect.isawaitable(result):
            await result

    @property
    def asgi_app(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """The ASGI callable (:meth:`handle`)."""
        return self.handle

    #: Entered around every import of the Worker's modules (strict mode watches them).
    load_context: Callable[[], contextlib.AbstractContextManager[Any]] | None = None

    #: ``False`` in ``edgekv serve``: an uncaught exception answers a plain 500 (the
    #: traceback goes to the log only), never an HTML page showing the Worker's code.
    show_tracebacks = True

    def _error_response(self, exc: Exception, scope: Scope) -> Response:
        if not self.show_tracebacks:
            text = exc.traceback_text if isinstance(exc, WorkerLoadError) else user_traceback(exc)
            logger.error("Uncaught exception in %s %s:\n%s", scope.get("method"),
                         scope.get("path", "/"), text.rstrip())
            return Response("Internal Server Error", status=500,
                            headers={"content-type": "text/plain; charset=utf-8"})
        if isinstance(exc, WorkerLoadError):
            title = "The Worker failed to load"
            text = exc.traceback_text
            note = f"edgekv reloads {exc.path.name} when you save a fix."
        else:
            title = f"{type(exc).__name__}: {exc}"
            text = user_traceback(exc)
            note = "Uncaught exception in the Worker's fetch handler."
            path = scope.get("path", "/")
            logger.error("Uncaught exception in %s %s:\n%s", scope.get("method"), path,
                         text.rstrip())
        if not _wants_html(scope):  # curl, fetch(), test clients: the traceback as text
            return Response(f"{title}\n\n{text.rstrip()}\n\n{note}\n", status=500,
                            headers={"content-type": "text/plain; charset=utf-8"})
        return Response(error_page_html(title, text, note), status=500, headers=_HTML)

    async def _non_http(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        if kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif kind == "websocket":
            await self._websocket(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket upgrade: the Worker's ``fetch`` answers; a 101 with ``web_socket``
        accepts and bridges the connection, anything else is sent as the refusal."""
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        http_scope = {**scope, "type": "http", "method": "GET",
                      "scheme": "https" if scope.get("scheme") == "wss" else "http"}

        async def no_body() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        request = Request.from_asgi(http_scope, no_body)
        env = self.env
        ctx = Context()
        token = bind(env, ctx)
        owner = bind_owner(self.resources)
        try:
            try:
                response = await self._invoke(request, env, ctx)
                if not isinstance(response, Response):
                    raise TypeError(NOT_A_RESPONSE)
            except Exception as exc:  # noqa: BLE001 - any Worker error becomes the 500 page
                response = self._error_response(exc, http_scope)
            socket = response.web_socket
            if response.status == 101 and socket is not None:
                await accept_and_serve(socket, response.headers, receive, send)
            elif "websocket.http.response" in scope.get("extensions", {}):
                content, stream = response.take_body()
                body = content or b""
                if stream is not None:
                    body = b"".join([bytes(c) async for c in stream])
                await send({"type": "websocket.http.response.start",
                            "status": response.status, "headers": response.headers.raw()})
                await send({"type": "websocket.http.response.body", "body": body})
            else:
                await send({"type": "websocket.close", "code": 1008})
        finally:
            unbind_owner(owner)
            unbind(token)
            if ctx.has_pending:
                self._drain_later(ctx)

    # -- waitUntil --------------------------------------------------------------------------

    def _drain_later(self, ctx: Context) -> None:
        task = asyncio.ensure_future(ctx.drain(self.wait_until_timeout_seconds))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_background(self, timeout_seconds: float | None = None) -> None:
        """Wait until every ``waitUntil`` task started so far (and their successors) ended.

        Errors were already logged by the drain; ``TimeoutError`` after ``timeout_seconds``.
        """
        async def settle() -> None:
            while self._background:
                await asyncio.gather(*list(self._background), return_exceptions=True)

        await asyncio.wait_for(settle(), timeout_seconds)


def _wants_html(scope: Scope) -> bool:
    """Whether the client asked for HTML (a browser's ``Accept`` names ``text/html``)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"accept":
            return b"text/html" in value.lower()
    return False
