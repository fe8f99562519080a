"""``DurableObjectRuntime``: everything Durable Objects need in one process.

Usage by the Worker loader / dev server::

    rt = DurableObjectRuntime(store, state_dir, clock=clock)
    env.COUNTER = rt.namespace("COUNTER", Counter, unique_key="todo-Counter", sqlite=True)
    rt.set_env(env)                    # env passed to every constructor from now on
    await rt.start()                   # load alarms (overdue ones fire), start eviction
    response = await env.COUNTER.getByName("a").fetch(request)
    await rt.close()                   # idempotent; the store stays open (the caller owns it)

The runtime owns: the storage engine reference (KV-backed objects and the alarm table), the
state directory (one SQLite file per SQLite-backed object under ``<state_dir>/do/``), the
registry of classes by binding, the alarm scheduler and the idle-eviction loop. With no
``state_dir`` a temporary directory is used and removed by ``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Callable
from typing import Any, Self

from edgekv.clock import SYSTEM_CLOCK, Clock
from edgekv.durable_objects.admin import ObjectIndex
from edgekv.durable_objects.alarms import AlarmInfo, AlarmKey, AlarmScheduler
from edgekv.durable_objects.compat import Compatibility
from edgekv.durable_objects.errors import DurableObjectError
from edgekv.durable_objects.host import NamespaceHost
from edgekv.durable_objects.ids import DurableObjectId
from edgekv.durable_objects.limits import DEFAULT_DO_LIMITS, DurableObjectLimits
from edgekv.durable_objects.namespace import DurableObjectNamespace
from edgekv.durable_objects.remote import RemoteObjects
from edgekv.durable_objects.stub import DurableObjectStub
from edgekv.storage.base import Store

__all__ = ["DurableObjectRuntime"]

RequestFactory = Callable[[Any, Any], Any]


class DurableObjectRuntime:
    """Hosts the Durable Object namespaces of one Worker process."""

    def __init__(
        self,
        store: Store,
        state_dir: str | None = None,
        *,
        clock: Clock | None = None,
        limits: DurableObjectLimits = DEFAULT_DO_LIMITS,
        idle_timeout_seconds: float = 70.0,
        eviction_interval_seconds: float = 10.0,
        alarm_poll_seconds: float = 0.25,
        compatibility_date: str | None = None,
        compatibility_flags: list[str] | tuple[str, ...] | None = None,
        passthrough_types: tuple[type, ...] = (),
    ) -> None:
        self.store = store
        #: What RPC passes by reference instead of copying: stubs, ids, namespaces, plus the
        #: layer above's own types (the Worker runtime's Request and Response).
        self.passthrough_types: tuple[type, ...] = (
            DurableObjectStub, DurableObjectId, DurableObjectNamespace, *passthrough_types)
        self.compat = Compatibility.of(compatibility_date, compatibility_flags)
        self._own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="edgekv-do-")
        self.clock = clock or SYSTEM_CLOCK
        self.limits = limits
        self.idle_timeout_seconds = idle_timeout_seconds
        self.eviction_interval_seconds = eviction_interval_seconds
        self.env: Any = None
        self.request_factory: RequestFactory | None = None
        #: Set on a cluster location that is not the primary: every stub call goes there
        #: and no object runs in this process (durable_objects/remote.py).
        self.remote: RemoteObjects | None = None
        #: Called with the count after an eviction dropped objects. The process's owner sets
        #: it (``edgekv dev``/``serve`` give freed heap back to the OS: server/memory.py);
        #: the runtime itself leaves process memory alone.
        self.on_evicted: Callable[[int], None] | None = None
        self.alarms = AlarmScheduler(store, self.clock, self._deliver_alarm, limits, alarm_poll_seconds)
        self.object_index = ObjectIndex(store)  # which objects exist, and their names (admin.py)
        self._hosts: dict[str, NamespaceHost] = {}  # by unique key
        self._bindings: dict[str, DurableObjectNamespace] = {}
        self._evictor: asyncio.Task[None] | None = None
        self._closed = False

    # -- configuration ------------------------------------------------------------------------

    def namespace(
        self, binding: str, cls: type, *, unique_key: str, sqlite: bool = False
    ) -> DurableObjectNamespace:
        """Register ``cls`` under ``binding`` and return the namespace binding for ``env``.

        ``unique_key`` identifies the namespace's data and ids (use ``f"{worker}-{class}"``);
        ``sqlite`` selects the SQLite backend (``new_sqlite_classes``). Registering the same
        unique key again replaces the class (hot reload): live objects reset at their next
        event. Several bindings may share one unique key (same class, same objects).
        """
        if self._closed:
            raise DurableObjectError("the Durable Object runtime is closed")
        host = self._hosts.get(unique_key)
        if host is None:
            host = self._hosts[unique_key] = NamespaceHost(self, binding, cls, unique_key, sqlite)
        elif host.cls is not cls or host.sqlite != sqlite:
            host.replace_class(cls, sqlite)
        ns = DurableObjectNamespace(host)
        self._bindings[binding] = ns
        return ns

    def get_namespace(self, binding: str) -> DurableObjectNamespace:
        """The namespace registered under ``binding``. Raises ``KeyError``."""
        return self._bindings[binding]

    @property
    def bindings(self) -> dict[str, DurableObjectNamespace]:
        """Every registered binding, by name (a copy)."""
        return dict(self._bindings)

    def set_env(self, env: Any) -> None:
        """The ``env`` passed to constructors of objects created from now on."""
        self.env = env

    def set_request_factory(self, factory: RequestFactory | None) -> None:
        """``factory(url_or_request, init) -> Request`` used by ``stub.fetch(url, init)``."""
        self.request_factory = factory

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load persisted alarms (overdue ones fire at once) and start idle eviction."""
        if self._closed:
            raise DurableObjectError("the Durable Object runtime is closed")
        await self.alarms.start()
        if self._evictor is None:
            self._evictor = asyncio.create_task(self._evict_forever(), name="edgekv-do-evict")

    async def close(self) -> None:
        """Stop alarms and eviction, drop every instance, close SQLite files. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self.alarms.stop()
        evictor, self._evictor = self._evictor, None
        if evictor is not None:
            evictor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await evictor
        for host in self._hosts.values():
            host.evict_all()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- eviction and alarms --------------------------------------------------------------------

    def evict_idle(self, idle_seconds: float | None = None) -> int:
        """Evict objects idle for ``idle_seconds`` (default: the configured timeout) now."""
        limit = self.idle_timeout_seconds if idle_seconds is None else idle_seconds
        now = self.clock.now()
        evicted = sum(host.evict_idle(now, limit) for host in self._hosts.values())
        if evicted and self.on_evicted is not None:
            self.on_evicted(evicted)
        return evicted

    async def _evict_forever(self) -> None:
        while True:
            await asyncio.sleep(self.eviction_interval_seconds)
            self.evict_idle()

    async def run_due_alarms(self) -> int:
        """Fire every alarm that is due by the clock now; wait for the handlers."""
        return await self.alarms.run_due()

    async def _deliver_alarm(
        self, key: AlarmKey, name: str | None, info: AlarmInfo, started: Callable[[], None]
    ) -> bool | None:
        host = self._hosts.get(key[0])
        if host is None:
            return None
        return await host.deliver_alarm(key[1], name, info, started)

    def evict_all_instances(self, close_websockets: tuple[int, str] | None = None) -> None:
        """Drop every object's in-memory instance now (storage stays; events reconstruct).

        Hibernatable WebSockets stay connected unless ``close_websockets`` is ``(code,
        reason)``: then their clients are sent that close.
        """
        for host in self._hosts.values():
            for entry in list(host.entries.values()):
                host.evict(entry.object_id)
            if close_websockets is not None:
                host.hibernation.close_all(*close_websockets)

    async def run_alarm_now(self, unique_key: str, id_hex: str) -> bool:
        """Run (and remove) the object's scheduled alarm now; ``False`` if none is set."""
        return await self.alarms.run_now((unique_key, id_hex))

    @property
    def live_objects(self) -> int:
        """How many objects have an instance in memory."""
        return sum(host.live_count for host in self._hosts.values())

    @property
    def registry_size(self) -> int:
        """How many registry entries exist (live objects plus those with queued events)."""
        return sum(len(host.entries) for host in self._hosts.values())
