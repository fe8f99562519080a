"""The execution context (``ctx``) and the per-request binding behind ``workers.env``.

``Context`` is what a Worker sees as ``self.ctx``: ``waitUntil(awaitable)`` (alias
``wait_until``) starts the awaitable at once, as a JavaScript promise would run, and records
it; ``passThroughOnException()`` records the wish. After the response is sent the server
awaits :meth:`Context.drain`.

The module-level ``workers.env`` (an :class:`EnvProxy`) and ``workers.wait_until`` resolve
through a ``ContextVar`` that the server sets around each request with :func:`bind` /
:func:`unbind` (or :func:`bound`). The serving runtime's ``WorkerResources`` are bound
beside it (``edgekv.runtime.web.resources``). Worker code may also read ``env`` at import time, before any
request, so the loader sets a process default with :func:`set_default_env` before importing
the Worker module.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from contextvars import ContextVar, Token
from typing import Any

from edgekv.runtime.errors import NoRequestContext

__all__ = [
    "Context",
    "EnvProxy",
    "PatchedEnv",
    "bind",
    "bound",
    "current_ctx",
    "current_env",
    "current_loop",
    "drop_default_env",
    "env",
    "patch_env",
    "set_default_env",
    "unbind",
    "waitUntil",
    "wait_until",
]

logger = logging.getLogger("edgekv.runtime")

_UNSET: Any = object()


class Context:
    """A Worker's execution context: background work that outlives the response."""

    __slots__ = ("_pass_through", "_tasks", "props")

    def __init__(self, props: Mapping[str, Any] | None = None) -> None:
        self._tasks: list[asyncio.Future[Any]] = []
        self._pass_through = False
        self.props: dict[str, Any] = dict(props or {})

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:
        """Start ``awaitable`` now (needs a running loop) and keep it until :meth:`drain`.

        Raises ``TypeError`` when given something that cannot be awaited.
        """
        unwrap = getattr(awaitable, "unwrap", None)  # a pyodide.ffi create_proxy() handle
        if unwrap is not None and callable(unwrap):
            awaitable = unwrap()
        try:
            task = asyncio.ensure_future(awaitable)
        except TypeError:
            raise TypeError(
                f"waitUntil() expects an awaitable, got {type(awaitable).__name__}"
            ) from None
        self._tasks.append(task)

    wait_until = waitUntil

    def passThroughOnException(self) -> None:
        """Record that an unhandled exception should fall through to the origin."""
        self._pass_through = True

    pass_through_on_exception = passThroughOnException

    @property
    def pass_through(self) -> bool:
        """Whether ``passThroughOnException()`` was called."""
        return self._pass_through

    @property
    def has_pending(self) -> bool:
        """Whether any ``waitUntil`` task has not been drained (cheaper than ``pending``)."""
        return bool(self._tasks)

    @property
    def pending(self) -> tuple[asyncio.Future[Any], ...]:
        """Tasks registered with ``waitUntil`` that have not been drained."""
        return tuple(self._tasks)

    async def drain(self, timeout_seconds: float | None = None) -> list[BaseException]:
        """Await every ``waitUntil`` task, including ones registered while draining.

        Exceptions are logged on the ``edgekv.runtime`` logger and returned, never raised.
        Tasks still running after ``timeout_seconds`` are cancelled (reported as
        ``TimeoutError``).
        """
        errors: list[BaseException] = []
        while self._tasks:
            batch, self._tasks = self._tasks, []
            done, not_done = await asyncio.wait(batch, timeout=timeout_seconds)
            for task in not_done:
                task.cancel()
                errors.append(TimeoutError("waitUntil task did not finish in time"))
            for task in done:
                if task.cancelled():
                    continue
                exc = task.exception()
                if exc is not None:
                    logger.error("Uncaught exception in waitUntil task", exc_info=exc)
                    errors.append(exc)
        return errors

    def __repr__(self) -> str:
        return f"Context(pending={len(self._tasks)})"


class _Binding:
    __slots__ = ("ctx", "env", "loop")

    def __init__(self, env: Any, ctx: Context | None) -> None:
        self.env = env
        self.ctx = ctx
        # The loop serving the request: synchronous Worker code on a worker thread (which
        # inherits this binding through its copied context) runs awaitables there.
        self.loop = _running_loop()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_current: ContextVar[_Binding | None] = ContextVar("edgekv_worker_binding", default=None)
_default_env: Any = _UNSET


def set_default_env(env: Any) -> None:
    """Set the process-wide ``env`` seen outside requests (call before importing the Worker)."""
    global _default_env
    _default_env = env


def drop_default_env(env: Any) -> None:
    """Forget the process-wide ``env`` if it is ``env`` (a closing runtime's own)."""
    global _default_env
    if _default_env is env:
        _default_env = _UNSET


def bind(env: Any, ctx: Context | None = None) -> Token[_Binding | None]:
    """Make ``env``/``ctx`` current for this task; pass the token to :func:`unbind`."""
    return _current.set(_Binding(env, ctx))


def unbind(token: Token[_Binding | None]) -> None:
    """Undo one :func:`bind`."""
    _current.reset(token)


@contextlib.contextmanager
def bound(env: Any, ctx: Context | None = None) -> Iterator[None]:
    """``with bound(env, ctx):`` — :func:`bind` for the duration of the block."""
    token = _current.set(_Binding(env, ctx))
    try:
        yield
    finally:
        _current.reset(token)


def current_env() -> Any:
    """The ``env`` of the current request, else the process default.

    Raises :class:`NoRequestContext` when neither is set.
    """
    binding = _current.get()
    if binding is not None and binding.env is not None:
        return binding.env
    if _default_env is not _UNSET:
        return _default_env
    raise NoRequestContext(
        "workers.env is not available: no Worker is loaded (edgekv sets it when it loads a "
        "Worker and around each request)"
    )


def current_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop that bound the current request (also seen from the worker threads it
    starts with a copy of its context); None outside a request or when bound off a loop."""
    binding = _current.get()
    return None if binding is None else binding.loop


def current_ctx() -> Context:
    """The execution context of the current request; :class:`NoRequestContext` outside one."""
    binding = _current.get()
    if binding is None or binding.ctx is None:
        raise NoRequestContext("wait_until() was called outside of a request")
    return binding.ctx


def wait_until(awaitable: Awaitable[Any]) -> None:
    """``ctx.waitUntil`` of the current request (``from workers import wait_until``).

    Raises :class:`NoRequestContext` outside a request (closing an un-started coroutine).
    """
    binding = _current.get()
    if binding is None or binding.ctx is None:
        close = getattr(awaitable, "close", None)
        if inspect.iscoroutine(awaitable) and close is not None:
            close()
        raise NoRequestContext("wait_until() was called outside of a request")
    binding.ctx.waitUntil(awaitable)


waitUntil = wait_until


class PatchedEnv:
    """An ``env`` that shows ``overrides`` first and falls back to ``base``."""

    __slots__ = ("_base", "_overrides")

    def __init__(self, base: Any, overrides: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "_overrides", dict(overrides))

    def __getattr__(self, name: str) -> Any:
        overrides = object.__getattribute__(self, "_overrides")
        if name in overrides:
            return overrides[name]
        base = object.__getattribute__(self, "_base")
        if base is None:
            raise AttributeError(name)
        return getattr(base, name)

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (
            name in self._overrides or hasattr(self._base, name)
        )

    def __repr__(self) -> str:
        return f"PatchedEnv({self._base!r}, overrides={sorted(self._overrides)})"


class EnvProxy:
    """What ``from workers import env`` binds: every access reads :func:`current_env`.

    Binding a proxy (not the env itself) lets a module-level ``from workers import env`` work
    before any env exists, follow each request's env, and see :func:`patch_env` overlays.
    Using it with nothing bound raises :class:`NoRequestContext`.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(current_env(), name)

    def __getitem__(self, name: str) -> Any:
        return current_env()[name]

    def __contains__(self, name: object) -> bool:
        return name in current_env()

    def __iter__(self) -> Iterator[Any]:
        return iter(current_env())

    def __eq__(self, other: object) -> bool:
        return bool(current_env() == other)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        try:
            return f"EnvProxy({current_env()!r})"
        except NoRequestContext:
            return "EnvProxy(<unbound>)"


env = EnvProxy()


@contextlib.contextmanager
def patch_env(
    d: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None, **kwds: Any
) -> Iterator[None]:
    """Within the block, ``workers.env`` shows these extra/overridden bindings."""
    overrides = {**dict(d or {}), **kwds}
    binding = _current.get()
    try:
        base = current_env()
    except NoRequestContext:
        base = None
    token = _current.set(_Binding(PatchedEnv(base, overrides), binding.ctx if binding else None))
    try:
        yield
    finally:
        _current.reset(token)
