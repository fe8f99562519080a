"""The resolved configuration: frozen dataclasses, one per wrangler concept.

Values are already validated and environment inheritance is already applied: a ``Config`` is
what the Worker in the selected environment gets. Sequences are tuples and mappings are
read-only views, so a ``Config`` can be shared freely between components.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from edgekv.config.diagnostics import Diagnostics
from edgekv.config.state import StatePaths, state_paths

__all__ = [
    "DEFAULT_DEV_PORT",
    "AssetsConfig",
    "Config",
    "D1DatabaseBinding",
    "DevSettings",
    "DurableObjectBinding",
    "KVNamespaceBinding",
    "Migration",
    "RenamedClass",
    "TransferredClass",
    "UnsupportedBinding",
    "WorkflowBinding",
]

#: ``wrangler dev``'s port when neither ``--port`` nor ``dev.port`` is given.
DEFAULT_DEV_PORT = 8787


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class KVNamespaceBinding:
    """One ``kv_namespaces`` entry. ``id`` may be absent (wrangler's automatic provisioning)."""

    binding: str
    id: str | None = None
    preview_id: str | None = None
    remote: bool = False

    def local_id(self, preview: bool = True) -> str:
        """The namespace id to use in local storage.

        With ``preview`` (what ``wrangler dev`` and ``kv ... --preview`` do) this is
        ``preview_id``, else ``id``, else the binding name; without it, ``id``, else the
        binding name (wrangler's ``preview_id ?? id`` and miniflare's ``id ?? binding``).
        """
        if preview and self.preview_id is not None:
            return self.preview_id
        return self.id if self.id is not None else self.binding


@dataclass(frozen=True)
class DurableObjectBinding:
    """One ``durable_objects.bindings`` entry: ``env.<name>`` is a namespace of ``class_name``.

    ``script_name`` names another Worker that defines the class; None means this Worker.
    """

    name: str
    class_name: str
    script_name: str | None = None
    environment: str | None = None

    @property
    def is_local(self) -> bool:
        """Whether the class is exported by this Worker (and so needs a migration)."""
        return self.script_name is None


@dataclass(frozen=True)
class RenamedClass:
    """A ``renamed_classes`` entry; ``from_`` is the TOML/JSON key ``from``."""

    from_: str
    to: str


@dataclass(frozen=True)
class TransferredClass:
    """A ``transferred_classes`` entry: class ``from_`` of Worker ``from_script`` becomes ``to``."""

    from_: str
    from_script: str
    to: str


@dataclass(frozen=True)
class Migration:
    """One ``[[migrations]]`` step, applied once per tag in file order."""

    tag: str
    new_classes: tuple[str, ...] = ()
    new_sqlite_classes: tuple[str, ...] = ()
    renamed_classes: tuple[RenamedClass, ...] = ()
    deleted_classes: tuple[str, ...] = ()
    transferred_classes: tuple[TransferredClass, ...] = ()


@dataclass(frozen=True)
class AssetsConfig:
    """The ``assets`` table: static files served in front of the Worker.

    ``directory`` is as written (relative to the config file); ``directory_path`` resolves
    it. ``run_worker_first`` is a bool, or a tuple of route patterns (``/api/*``, with
    ``!/api/docs`` exclusions) for which the Worker runs before any asset lookup.
    """

    directory: str | None = None
    binding: str | None = None
    html_handling: str = "auto-trailing-slash"
    not_found_handling: str = "none"
    run_worker_first: bool | tuple[str, ...] = False
    config_dir: Path | None = None

    @property
    def directory_path(self) -> Path | None:
        """``directory`` resolved against the config folder (or cwd), or None."""
        if self.directory is None:
            return None
        return ((self.config_dir or Path.cwd()) / self.directory).resolve()


@dataclass(frozen=True)
class D1DatabaseBinding:
    """One ``d1_databases`` entry: ``env.<binding>`` is a local D1 database.

    ``local_id`` names its file under the state folder: ``preview_database_id`` (what
    ``wrangler dev`` uses), else ``database_id``, else ``database_name``, else the binding.
    """

    binding: str
    database_name: str | None = None
    database_id: str | None = None
    preview_database_id: str | None = None
    migrations_dir: str | None = None
    migrations_table: str | None = None

    @property
    def local_id(self) -> str:
        """The id of the local database (its file name under ``<state>/d1/``)."""
        return (self.preview_database_id or self.database_id or self.database_name
                or self.binding)


@dataclass(frozen=True)
class WorkflowBinding:
    """One ``workflows`` entry: ``env.<binding>`` creates instances of ``class_name``."""

    name: str
    binding: str
    class_name: str
    script_name: str | None = None


@dataclass(frozen=True)
class UnsupportedBinding:
    """A binding of a kind edgekv does not run (D1, R2, Queues, AI, ...).

    ``kind`` is the config field (``d1_databases``), ``name`` the binding name the Worker
    reads on ``env``, ``path`` where it was declared (``d1_databases[0]``).
    """

    kind: str
    name: str
    path: str


@dataclass(frozen=True)
class DevSettings:
    """The top-level ``dev`` table (never per environment).

    ``port`` is None when not configured; ``effective_port`` applies wrangler's 8787 default.
    """

    ip: str = "localhost"
    port: int | None = None
    local_protocol: Literal["http", "https"] = "http"
    upstream_protocol: Literal["http", "https"] = "http"
    host: str | None = None
    inspector_port: int | None = None
    inspector_ip: str | None = None
    enable_containers: bool = True
    container_engine: str | None = None
    generate_types: bool = False

    @property
    def effective_port(self) -> int:
        """``port``, or 8787 when unset."""
        return self.port if self.port is not None else DEFAULT_DEV_PORT


@dataclass(frozen=True)
class Config:
    """A validated wrangler configuration, resolved for one environment.

    ``config_path`` is None when no config file exists (wrangler then runs on defaults).
    ``env`` is the selected environment name (``--env`` or ``CLOUDFLARE_ENV``), or None.
    ``name`` already carries the ``-<env>`` suffix wrangler appends in an environment.
    ``vars`` holds the configured values (strings, or any JSON value); ``secrets`` holds the
    values read from ``.dev.vars`` / ``.env`` (see ``edgekv.config.dotenv``), which override
    vars of the same name in ``local_vars()``.
    """

    config_path: Path | None = None
    env: str | None = None
    name: str | None = None
    main: str | None = None
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=_empty)
    kv_namespaces: tuple[KVNamespaceBinding, ...] = ()
    durable_objects: tuple[DurableObjectBinding, ...] = ()
    migrations: tuple[Migration, ...] = ()
    dev: DevSettings = field(default_factory=DevSettings)
    secrets_required: tuple[str, ...] | None = None
    secrets: Mapping[str, str] = field(default_factory=_empty)
    secret_sources: tuple[Path, ...] = ()
    defined_environments: tuple[str, ...] = ()
    assets: AssetsConfig | None = None
    crons: tuple[str, ...] = ()
    unsupported_bindings: tuple[UnsupportedBinding, ...] = ()
    d1_databases: tuple[D1DatabaseBinding, ...] = ()
    workflows: tuple[WorkflowBinding, ...] = ()
    diagnostics: Diagnostics = field(
        default_factory=lambda: Diagnostics("Processing wrangler configuration:"),
        compare=False,
        repr=False,
    )

    @property
    def config_dir(self) -> Path | None:
        """The directory holding the config file, against which relative paths resolve."""
        return self.config_path.parent if self.config_path is not None else None

    @property
    def main_path(self) -> Path | None:
        """``main`` resolved against the config directory (or cwd without a config file)."""
        if self.main is None:
            return None
        return ((self.config_dir or Path.cwd()) / self.main).resolve()

    def local_vars(self) -> dict[str, Any]:
        """What ``env`` holds for plain values locally: ``vars`` overridden by ``secrets``."""
        return {**self.vars, **self.secrets}

    def durable_object_storage(self) -> dict[str, str]:
        """Each Durable Object class alive after ``migrations``: ``"sqlite"`` or ``"kv"``.

        A class of this Worker's bindings that no migration creates is reported as a
        warning by the loader and listed here as ``"sqlite"``.
        """
        from edgekv.config.migrations import class_storage

        storage: dict[str, str] = dict(class_storage(self.migrations))
        for binding in self.durable_objects:
            if binding.is_local:
                storage.setdefault(binding.class_name, "sqlite")
        return storage

    def kv_namespace(self, binding: str) -> KVNamespaceBinding | None:
        """The KV binding named ``binding``, or None."""
        return next((kv for kv in self.kv_namespaces if kv.binding == binding), None)

    def state_paths(
        self, persist_to: str | Path | None = None, *, cwd: str | Path | None = None
    ) -> StatePaths:
        """Where local state lives; see ``edgekv.config.state.state_paths``.

        ``cwd`` (default: the process's) resolves ``persist_to``, and is the base when
        there is no config file.
        """
        return state_paths(self.config_dir, persist_to, cwd=cwd)

    def state_dir(
        self, persist_to: str | Path | None = None, *, cwd: str | Path | None = None
    ) -> Path:
        """The local state root: ``.edgekv`` next to the config file, or ``--persist-to``."""
        return self.state_paths(persist_to, cwd=cwd).root

    def kv_store_url(
        self, persist_to: str | Path | None = None, *, cwd: str | Path | None = None
    ) -> str:
        """The storage URL of the local KV database, ``sqlite:///<state_dir>/kv.sqlite3``."""
        return self.state_paths(persist_to, cwd=cwd).kv_url
