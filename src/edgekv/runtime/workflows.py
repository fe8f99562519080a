"""Local Workflows: ``env.MY_WORKFLOW.create()``, ``.get(id)``, ``instance.status()``.

A ``workflows = [{name, binding, class_name}]`` entry binds ``env.<binding>`` to a
:class:`Workflow` that runs instances of the Worker's ``class_name`` (a
``workers.WorkflowEntrypoint`` subclass) as asyncio tasks in the dev server's process:
``await cls(ctx, env).run(event, step)``.

Persistence (``StatePaths.workflows_db``, SQLite): each instance's status, params, output and
error, and every completed step's JSON result keyed by step name. A step that already
completed is never run again: its stored result is returned (Cloudflare's memoisation), so an
instance left ``running`` when the server stopped resumes at the next start and continues
after its last completed step.

The step API follows Cloudflare's Python Workflows (``workers.workflows``):

- ``await step.do(name, fn)`` or the decorator ``@step.do(name, depends=[...],
  concurrent=False, config={...})``: the decorated step runs when awaited, after its
  ``depends`` steps (concurrently with ``concurrent=True``), and receives their results as
  positional arguments. ``config`` is ``{"retries": {"limit", "delay", "backoff"},
  "timeout"}`` (defaults as Cloudflare: 5 retries, 10 s, exponential); a step raising
  :class:`NonRetryableError` is not retried. Results must be JSON-serialisable.
- ``await step.sleep(name, duration)`` (seconds, or ``"10 seconds"``/``"2 minutes"``...),
  ``await step.sleep_until(name, timestamp)``;
- ``await step.wait_for_event(name, event_type, timeout=...)`` resolved by
  ``instance.send_event(type=..., payload=...)``.

``status()`` returns ``{"status": "queued"|"running"|"complete"|"errored"|"terminated",
"error": {"name", "message"} | None, "output": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from edgekv.runtime.d1 import JsObject
from edgekv.runtime.ffi import JsException

__all__ = [
    "NonRetryableError",
    "Workflow",
    "WorkflowInstance",
    "WorkflowRegistry",
    "WorkflowStep",
]

logger = logging.getLogger("edgekv.runtime")

_DEFAULT_RETRIES: Mapping[str, Any] = {"limit": 5, "delay": 10.0, "backoff": "exponential"}
_UNITS = {"millisecond": 0.001, "second": 1, "minute": 60, "hour": 3600, "day": 86400,
          "week": 604800, "month": 2592000, "year": 31536000}


class NonRetryableError(Exception):
    """Raised by a Workflow step to fail it without retrying (Cloudflare's class and name)."""


def parse_duration(value: Any) -> float:
    """Seconds of ``value``: a number of milliseconds (as Cloudflare's ``WorkflowSleepDuration``
    numbers are), or ``"<n> <unit>[s]"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 1000.0
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*", str(value))
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(f"invalid Workflow duration: {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


class _Store:
    """Instances and step results in one SQLite file, used from one worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgekv-wf")
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("CREATE TABLE IF NOT EXISTS instances (workflow TEXT, id TEXT, "
                         "status TEXT, params TEXT, output TEXT, error TEXT, created REAL, "
                         "PRIMARY KEY (workflow, id))")
            conn.execute("CREATE TABLE IF NOT EXISTS steps (workflow TEXT, id TEXT, "
                         "name TEXT, output TEXT, PRIMARY KEY (workflow, id, name))")
            self._conn = conn
        return self._conn

    async def call(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            return self._db().execute(sql, params).fetchall()

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    def close(self) -> None:
        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(close)
        self._executor.shutdown(wait=True)


class WorkflowStep:
    """The ``step`` argument of ``run(event, step)``."""

    def __init__(self, instance: _Run) -> None:
        self._run = instance

    def do(self, name: str, fn: Callable[..., Any] | None = None, *,
           depends: list[Any] | None = None, concurrent: bool = False,
           config: Mapping[str, Any] | None = None) -> Any:
        """Run ``fn`` as step ``name`` (awaitable), or decorate a step function."""
        if fn is not None:
            return self._run.step(name, fn, (), config)

        def decorate(func: Callable[..., Any]) -> Callable[[], Awaitable[Any]]:
            async def resolve() -> Any:
                deps = list(depends or ())
                if concurrent:
                    args = await asyncio.gather(*(d() for d in deps))
                else:
                    args = [await d() for d in deps]
                return await self._run.step(name, func, tuple(args), config)

            resolve.__name__ = getattr(func, "__name__", name)
            return resolve

        return decorate

    async def sleep(self, name: str, duration: Any) -> None:
        """Sleep ``duration`` once (a completed sleep is not repeated on resume)."""
        seconds = parse_duration(duration)
        await self._run.step(name, lambda: asyncio.sleep(seconds), (), {"retries": {"limit": 0}})

    async def sleep_until(self, name: str, timestamp: Any) -> None:
        """Sleep until ``timestamp`` (a ``datetime`` or epoch milliseconds)."""
        target = timestamp.timestamp() if hasattr(timestamp, "timestamp") else timestamp / 1000
        await self.sleep(name, max(0.0, target - time.time()) * 1000)

    async def wait_for_event(self, name: str, event_type: str, timeout: Any = "24 hours"
                             ) -> Any:
        """The first event of ``event_type`` sent to this instance: ``{payload, timestamp,
        type}``; raises ``TimeoutError`` after ``timeout``."""
        async def wait() -> Any:
            return await asyncio.wait_for(self._run.next_event(event_type),
                                          parse_duration(timeout))

        return await self._run.step(name, wait, (), {"retries": {"limit": 0}})


class _Run:
    """One instance's execution state."""

    def __init__(self, workflow: Workflow, instance_id: str) -> None:
        self.workflow = workflow
        self.id = instance_id
        self.events: list[dict[str, Any]] = []
        self.event_arrived = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def next_event(self, event_type: str) -> Any:
        while True:
            for i, event in enumerate(self.events):
                if event["type"] == event_type:
                    del self.events[i]
                    return event
            self.event_arrived.clear()
            await self.event_arrived.wait()

    async def step(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...],
                   config: Mapping[str, Any] | None) -> Any:
        # A step awaited twice in one run (a shared dependency) runs once.
        if name in self._inflight:
            return await asyncio.shield(self._inflight[name])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[name] = future
        try:
            result = await self._step(name, fn, args, config)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: other awaiters see it, nobody logs it
            raise
        future.set_result(result)
        return result

    async def _step(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...],
                    config: Mapping[str, Any] | None) -> Any:
        store, wf = self.workflow._store, self.workflow.name
        rows = await store.call("SELECT output FROM steps WHERE workflow=? AND id=? AND name=?",
                                (wf, self.id, name))
        if rows:
            return json.loads(rows[0][0])
        retries = {**_DEFAULT_RETRIES, **dict((config or {}).get("retries") or {})}
        timeout = (config or {}).get("timeout")
        attempt = 0
        while True:
            try:
                value = fn(*args)
                if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
                    value = await (asyncio.wait_for(value, parse_duration(timeout))
                                   if timeout is not None else value)
                break
            except NonRetryableError:
                raise
            except Exception as exc:
                if attempt >= int(retries["limit"]):
                    raise
                delay = retries["delay"]
                delay = delay if isinstance(delay, (int, float)) else parse_duration(delay)
                if retries.get("backoff") == "exponential":
                    delay *= 2 ** attempt
                elif retries.get("backoff") == "linear":
                    delay *= attempt + 1
                logger.info("Workflow %s step %r failed (%s); retry %d in %.3gs", self.id,
                            name, exc, attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)
        value = value.to_py() if hasattr(value, "to_py") else value
        await store.call("INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?)",
                         (wf, self.id, name, json.dumps(value)))
        return value


class WorkflowInstance:
    """A handle on one instance (``create()``/``get()``); ``id`` is its id."""

    def __init__(self, workflow: Workflow, instance_id: str) -> None:
        self._workflow = workflow
        self.id = instance_id

    async def status(self) -> JsObject:
        """``{status, error, output}`` (see the module docstring)."""
        rows = await self._workflow._store.call(
            "SELECT status, output, error FROM instances WHERE workflow=? AND id=?",
            (self._workflow.name, self.id))
        if not rows:
            raise JsException("instance.not_found")
        status, output, error = rows[0]
        return JsObject(status=status, error=JsObject(json.loads(error)) if error else None,
                        output=json.loads(output) if output is not None else None)

    async def terminate(self) -> None:
        """Stop the instance; its status becomes ``terminated``."""
        run = self._workflow._runs.get(self.id)
        if run is not None and run.task is not None:
            run.task.cancel()
        await self._workflow._set(self.id, "terminated")

    async def send_event(self, options: Mapping[str, Any] | None = None, *,
                         type: str | None = None, payload: Any = None) -> None:
        """Deliver an event to a ``step.wait_for_event`` of this instance."""
        options = dict(options or {})
        run = self._workflow._runs.get(self.id)
        if run is None:
            raise JsException("instance.not_running")
        run.events.append({"type": options.get("type", type),
                           "payload": options.get("payload", payload),
                           "timestamp": time.time() * 1000})
        run.event_arrived.set()

    def __repr__(self) -> str:
        return f"WorkflowInstance({self.id!r})"


class Workflow:
    """``env.<binding>`` of a ``workflows`` entry."""

    def __init__(self, registry: WorkflowRegistry, name: str, cls: type, env: Any) -> None:
        self._registry = registry
        self._store = registry._store
        self.name = name
        self.cls = cls
        self.env = env
        self._runs: dict[str, _Run] = {}

    async def create(self, options: Mapping[str, Any] | None = None, *, id: str | None = None,
                     params: Any = None) -> WorkflowInstance:
        """Start a new instance (``{id, params}`` or keyword arguments); returns its handle."""
        if options is not None and hasattr(options, "to_py"):  # a JavaScript object (JsObject)
            options = dict(options.to_py())
        else:
            options = dict(options or {})
        instance_id = options.get("id", id) or str(uuid.uuid4())
        params = options.get("params", params)
        rows = await self._store.call("SELECT 1 FROM instances WHERE workflow=? AND id=?",
                                      (self.name, instance_id))
        if rows:
            raise JsException("instance.already_exists")
        await self._store.call("INSERT INTO instances VALUES (?, ?, 'queued', ?, NULL, NULL, ?)",
                               (self.name, instance_id, json.dumps(params), time.time()))
        self._start(instance_id, params)
        return WorkflowInstance(self, instance_id)

    async def create_batch(self, batch: list[Mapping[str, Any]]) -> list[WorkflowInstance]:
        """``create`` for each options object."""
        return [await self.create(options) for options in batch]

    async def get(self, instance_id: str) -> WorkflowInstance:
        """The instance ``instance_id``; ``instance.not_found`` when there is none."""
        rows = await self._store.call("SELECT 1 FROM instances WHERE workflow=? AND id=?",
                                      (self.name, instance_id))
        if not rows:
            raise JsException("instance.not_found")
        return WorkflowInstance(self, instance_id)

    async def _set(self, instance_id: str, status: str, output: Any = None,
                   error: Mapping[str, str] | None = None) -> None:
        await self._store.call(
            "UPDATE instances SET status=?, output=?, error=? WHERE workflow=? AND id=?",
            (status, None if output is None else json.dumps(output),
             None if error is None else json.dumps(error), self.name, instance_id))

    def _start(self, instance_id: str, params: Any) -> None:
        run = self._runs[instance_id] = _Run(self, instance_id)
        run.task = asyncio.get_running_loop().create_task(self._execute(run, params))
        self._registry._tasks.add(run.task)
        run.task.add_done_callback(self._registry._tasks.discard)

    async def _execute(self, run: _Run, params: Any) -> None:
        from edgekv.runtime.context import Context

        await self._set(run.id, "running")
        event = JsObject(payload=params, timestamp=time.time() * 1000, instanceId=run.id)
        try:
            instance = self.cls(Context(), self.env)
            output = await instance.run(event, WorkflowStep(run))
            output = output.to_py() if hasattr(output, "to_py") else output
            json.dumps(output)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any error of the Workflow's own code marks
            # the instance errored (its name and message kept), as on Cloudflare
            logger.error("Workflow %s instance %s failed: %s: %s", self.name, run.id,
                         type(exc).__name__, exc)
            await self._set(run.id, "errored",
                            error={"name": type(exc).__name__, "message": str(exc)})
        else:
            await self._set(run.id, "complete", output=output)
        finally:
            self._runs.pop(run.id, None)

    async def _resume(self) -> None:
        rows = await self._store.call(
            "SELECT id, params FROM instances WHERE workflow=? AND status IN "
            "('queued', 'running')", (self.name,))
        for instance_id, params in rows:
            if instance_id not in self._runs:
                self._start(instance_id, json.loads(params))

    def __repr__(self) -> str:
        return f"Workflow({self.name!r})"


class WorkflowRegistry:
    """The Workflows of one Worker runtime over one SQLite file (``workflows_db``)."""

    def __init__(self, path: str | Path) -> None:
        self._store = _Store(Path(path))
        self._tasks: set[asyncio.Task[None]] = set()
        self._workflows: dict[str, Workflow] = {}

    def workflow(self, name: str, cls: type, env: Any) -> Workflow:
        """The binding for workflow ``name`` running ``cls`` (the class is replaced on reload;
        running instances finish with the code they started with)."""
        wf = self._workflows.get(name)
        if wf is None:
            wf = self._workflows[name] = Workflow(self, name, cls, env)
        wf.cls, wf.env = cls, env
        return wf

    async def resume(self) -> None:
        """Restart instances left ``queued``/``running`` (completed steps are not rerun)."""
        for wf in self._workflows.values():
            await wf._resume()

    async def close(self) -> None:
        """Cancel running instances (they resume at the next start) and close the file."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5.0)
        await asyncio.to_thread(self._store.close)
