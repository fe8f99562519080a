"""``env``: the bindings a Worker sees as ``self.env`` (and ``workers.env``).

An :class:`Env` holds, by binding name:

- KV namespaces: a ``KVNamespace`` per ``kv_namespaces`` entry, all over one shared store,
  with the id ``wrangler dev`` uses (``binding.local_id(preview=True)``: ``preview_id``, else
  ``id``, else the binding name), so ``edgekv kv key put --binding X`` writes what it reads;
- ``vars`` as Python values (a TOML/JSON object stays a ``dict``), then secrets from
  ``.dev.vars``/``.env`` (``config.local_vars()``), then ``--var KEY:VALUE`` overrides;
- Durable Object namespaces (``DurableObjectNamespace``), added once the Worker's classes are
  known (see :func:`add_durable_objects`).

Access is by attribute, as on Cloudflare (``env.TODO``), and by item (``env["TODO"]``);
``"TODO" in env``, iteration (binding names) and ``len`` work too. A missing binding raises
``AttributeError`` (``KeyError`` for item access). ``repr`` lists names only, never values,
so secrets do not leak into logs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from edgekv.config import Config
from edgekv.config.bindings import FRIENDLY_BINDING_NAMES
from edgekv.durable_objects import DurableObjectRuntime
from edgekv.kv import KVNamespace
from edgekv.limits import DEFAULT_LIMITS, Limits
from edgekv.runtime.entrypoints import DurableObject
from edgekv.runtime.loader import WorkerLoadError, WorkerModule
from edgekv.runtime.tracing import TracedBinding, tracing_enabled
from edgekv.storage import Store
from edgekv.suggest import did_you_mean

__all__ = [
    "Env",
    "UnavailableBinding",
    "add_binding",
    "add_d1_databases",
    "add_durable_objects",
    "add_workflows",
    "build_env",
    "parse_var",
]


class Env:
    """The bindings of one Worker (see module docstring)."""

    def __init__(self, bindings: Mapping[str, Any] | None = None) -> None:
        # Bindings live in the instance __dict__: ``env.NAME`` is a plain attribute lookup,
        # the cheapest thing Python does, on the request hot path.
        self.__dict__.update(bindings or {})

    def __getattr__(self, name: str) -> Any:
        # Only called when the attribute is missing.
        message = f"env has no binding named {name!r}"
        if not name.startswith("_"):
            close = did_you_mean(name, [k for k in self.__dict__ if not k.startswith("_")])
            if close is not None:
                message += f"; did you mean env.{close}?"
        raise AttributeError(message)

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__dict__[name]
        except KeyError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.__dict__))

    def __len__(self) -> int:
        return len(self.__dict__)

    def __bool__(self) -> bool:
        # An env without bindings is still an object (truthy), as Cloudflare's env is.
        return True

    def keys(self) -> list[str]:
        """Binding names."""
        return list(self.__dict__)

    def get(self, name: str, default: Any = None) -> Any:
        """The binding ``name``, or ``default``."""
        return self.__dict__.get(name, default)

    def __repr__(self) -> str:
        return f"Env({', '.join(self.__dict__)})"


def add_binding(env: Env, name: str, value: Any) -> None:
    """Give ``env`` the binding ``name`` (a function: ``env``'s attributes are its bindings)."""
    env.__dict__[name] = value


class UnavailableBinding:
    """Stands in for a binding edgekv cannot serve (a Durable Object of another Worker)."""

    def __init__(self, name: str, reason: str) -> None:
        self._name = name
        self._reason = reason

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise RuntimeError(f"env.{self._name} is not available in edgekv: {self._reason}")

    def __repr__(self) -> str:
        return f"UnavailableBinding({self._name!r})"


def parse_var(text: str) -> tuple[str, str]:
    """``"KEY:VALUE"`` -> ``("KEY", "VALUE")`` (split at the first colon). Raises ``ValueError``."""
    key, sep, value = text.partition(":")
    if not sep or not key.strip():
        raise ValueError(f"Invalid --var {text!r}: expected KEY:VALUE")
    return key.strip(), value


def build_env(
    config: Config,
    kv_store: Store,
    *,
    vars_override: Mapping[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    kv_cache: dict[str, KVNamespace] | None = None,
) -> Env:
    """An ``Env`` with the KV namespaces and plain values of ``config``.

    ``kv_cache`` (namespace id -> binding) lets a reload reuse binding objects.
    """
    bindings: dict[str, Any] = {}
    cache = kv_cache if kv_cache is not None else {}
    for kv in config.kv_namespaces:
        ns_id = kv.local_id(preview=True)
        ns = cache.get(ns_id)
        if ns is None:
            ns = cache[ns_id] = KVNamespace(kv_store, ns_id, limits=limits)
        bindings[kv.binding] = TracedBinding("KV", kv.binding, ns) if tracing_enabled() else ns
    bindings.update(config.local_vars())
    bindings.update(vars_override or {})
    where = config.config_path.name if config.config_path is not None else "the configuration"
    for unsupported in config.unsupported_bindings:
        if unsupported.name in bindings:
            continue
        kind = FRIENDLY_BINDING_NAMES.get(unsupported.kind, unsupported.kind)
        if unsupported.kind == "queues":
            kind = "Queue"
        bindings[unsupported.name] = UnavailableBinding(
            unsupported.name,
            f"it is {'an' if kind[:1] in 'AEIOU' or kind.startswith('R2') else 'a'} {kind} binding ({unsupported.path} "
            f"in {where}), and edgekv does not "
            f"run {unsupported.kind} locally (it runs KV namespaces, Durable Objects, D1, "
            "Workflows, static assets, vars and secrets)",
        )
    return Env(bindings)


def add_durable_objects(
    env: Env,
    config: Config,
    worker: WorkerModule,
    do_runtime: DurableObjectRuntime,
) -> None:
    """Register the Worker's Durable Object classes and put their namespaces on ``env``.

    The unique key is ``f"{config.name}-{class_name}"`` (stable across restarts, so ids and
    stored data persist); the backend is SQLite or KV per ``config.durable_object_storage()``.
    A binding to a class the Worker does not export raises :class:`WorkerLoadError` naming
    the binding, the class and the module. Bindings with ``script_name`` (a class of another
    Worker) become :class:`UnavailableBinding` placeholders.
    """
    storage = config.durable_object_storage()
    worker_name = config.name or "worker"
    for binding in config.durable_objects:
        if not binding.is_local:
            add_binding(env, binding.name, UnavailableBinding(
                binding.name,
                f'it is bound to class "{binding.class_name}" of Worker '
                f'"{binding.script_name}", and edgekv runs a single Worker',
            ))
            continue
        cls = worker.durable_objects.get(binding.class_name)
        if cls is None:
            raise _missing_class(binding.name, binding.class_name, worker)
        namespace = do_runtime.namespace(
            binding.name,
            cls,
            unique_key=f"{worker_name}-{binding.class_name}",
            sqlite=storage.get(binding.class_name, "sqlite") == "sqlite",
        )
        add_binding(env, binding.name, namespace)


def add_d1_databases(env: Env, config: Config, state_root: str | Path,
                     cache: dict[str, Any]) -> None:
    """Put a ``D1Database`` per ``d1_databases`` entry on ``env``, its file at
    ``d1_db_path(state_root, binding.local_id)``; ``cache`` (local id -> database) keeps one
    connection per file across reloads."""
    from edgekv.config.state import d1_db_path
    from edgekv.runtime.d1 import D1Database

    for binding in config.d1_databases:
        db = cache.get(binding.local_id)
        if db is None:
            db = cache[binding.local_id] = D1Database(d1_db_path(state_root, binding.local_id))
        add_binding(env, binding.binding, db)


def add_workflows(env: Env, config: Config, worker: WorkerModule, registry: Any) -> None:
    """Put a ``Workflow`` per ``workflows`` entry on ``env`` (a ``WorkflowRegistry``'s).

    A class the Worker does not define raises :class:`WorkerLoadError`; a Workflow of another
    Worker (``script_name``) becomes an :class:`UnavailableBinding`.
    """
    for binding in config.workflows:
        if binding.script_name is not None and binding.script_name != config.name:
            add_binding(env, binding.binding, UnavailableBinding(
                binding.binding,
                f'it is bound to Workflow class "{binding.class_name}" of Worker '
                f'"{binding.script_name}", and edgekv runs a single Worker',
            ))
            continue
        cls = getattr(worker.module, binding.class_name, None)
        if not isinstance(cls, type):
            raise WorkerLoadError(
                f'Workflow binding "{binding.binding}" refers to class "{binding.class_name}", '
                f"but {_display(worker.path)} does not define a class named "
                f"{binding.class_name}.",
                path=worker.path,
            )
        add_binding(env, binding.binding, registry.workflow(binding.name, cls, env))


def _missing_class(binding: str, class_name: str, worker: WorkerModule) -> WorkerLoadError:
    value = getattr(worker.module, class_name, None)
    where = _display(worker.path)
    if isinstance(value, type) and not issubclass(value, DurableObject):
        detail = (
            f'Durable Object binding "{binding}" refers to class "{class_name}", but '
            f"{class_name} in {where} does not subclass workers.DurableObject."
        )
    elif value is not None:
        detail = (
            f'Durable Object binding "{binding}" refers to class "{class_name}", which {where} '
            f"defines but does not export (add it to __all__)."
        )
    else:
        detail = (
            f'Durable Object binding "{binding}" refers to class "{class_name}", but {where} '
            f"does not export a class named {class_name}. Define or import it in the main "
            "module (or fix class_name in the wrangler configuration)."
        )
    return WorkerLoadError(detail, path=worker.path)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
