"""Where edgekv keeps local state (KV data, Durable Object storage).

The rule mirrors wrangler's ``.wrangler/state`` (workers-sdk ``get-local-persistence-path.ts``)
with our own folder name:

- default: ``<directory of the config file>/.edgekv``, or ``<cwd>/.edgekv`` without a config;
- ``--persist-to DIR`` replaces the whole root and resolves relative to the **cwd** (not to
  the config file), exactly like wrangler's flag.

Inside the root: ``kv.sqlite3`` holds every KV namespace (one database, namespaces keyed by
id) and ``do.sqlite3`` holds Durable Object storage (KV-backed classes);
``do/<worker>-<Class>/<id>.sqlite3`` is the file of one SQLite-backed Durable Object, with its
point-in-time-recovery history in ``<id>.pitr.sqlite3`` next to it; ``d1/<database_id>.sqlite3`` is a local D1
database and ``workflows.sqlite3`` holds Workflow instances and their step results. Every component (CLI, dev server,
Durable Objects) must call ``state_paths`` rather than build these paths itself, so that
``edgekv kv ...`` and ``edgekv dev`` always see the same data.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "D1_DIR_NAME",
    "DO_DB_NAME",
    "DO_DIR_NAME",
    "KV_DB_NAME",
    "STATE_DIR_NAME",
    "WORKFLOWS_DB_NAME",
    "StatePaths",
    "d1_db_path",
    "durable_object_db_path",
    "durable_object_dir",
    "durable_object_history_path",
    "state_paths",
    "workflows_db_path",
]

STATE_DIR_NAME = ".edgekv"
KV_DB_NAME = "kv.sqlite3"
DO_DB_NAME = "do.sqlite3"
D1_DIR_NAME = "d1"
WORKFLOWS_DB_NAME = "workflows.sqlite3"
DO_DIR_NAME = "do"
_SAFE_DIR_NAME = re.compile(r"[^A-Za-z0-9._-]")


def d1_db_path(root: str | Path, database_id: str) -> Path:
    """The SQLite file of local D1 database ``database_id`` under state root ``root``:
    ``<root>/d1/<database_id>.sqlite3`` (path separators in the id are replaced by ``_``)."""
    safe = database_id.replace("/", "_").replace("\\", "_")
    return Path(root) / D1_DIR_NAME / f"{safe}.sqlite3"


def workflows_db_path(root: str | Path) -> Path:
    """The SQLite file holding Workflow instances and step results: ``<root>/workflows.sqlite3``."""
    return Path(root) / WORKFLOWS_DB_NAME


def durable_object_dir(root: str | Path, unique_key: str) -> Path:
    """The folder of one Durable Object class's SQLite files: ``<root>/do/<unique_key>``.

    A key with characters unsafe in a file name gets them replaced by ``_`` plus 8 hex digits
    of its SHA-256, so two keys never share a folder."""
    safe = _SAFE_DIR_NAME.sub("_", unique_key)
    if safe != unique_key or not safe:
        safe = f"{safe}-{hashlib.sha256(unique_key.encode()).hexdigest()[:8]}"
    return Path(root) / DO_DIR_NAME / safe


def durable_object_db_path(root: str | Path, unique_key: str, id_hex: str) -> Path:
    """The SQLite file of one SQLite-backed Durable Object: ``<class folder>/<id>.sqlite3``."""
    return durable_object_dir(root, unique_key) / f"{id_hex}.sqlite3"


def durable_object_history_path(root: str | Path, unique_key: str, id_hex: str) -> Path:
    """The point-in-time-recovery history of one object: ``<class folder>/<id>.pitr.sqlite3``."""
    return durable_object_dir(root, unique_key) / f"{id_hex}.pitr.sqlite3"


@dataclass(frozen=True)
class StatePaths:
    """Absolute paths of the local state. Nothing is created on disk by this object."""

    root: Path
    kv_db: Path
    do_db: Path

    def ensure(self) -> None:
        """Create the state folder, with a ``.gitignore`` that keeps its data out of git.
        Raises ``OSError``."""
        self.root.mkdir(parents=True, exist_ok=True)
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            from edgekv.config.starter import STATE_GITIGNORE

            ignore.write_text(STATE_GITIGNORE, encoding="utf-8")

    def d1_db(self, database_id: str) -> Path:
        """The SQLite file of local D1 database ``database_id`` (see :func:`d1_db_path`)."""
        return d1_db_path(self.root, database_id)

    @property
    def workflows_db(self) -> Path:
        """The SQLite file of local Workflows (see :func:`workflows_db_path`)."""
        return workflows_db_path(self.root)

    @property
    def kv_url(self) -> str:
        """Storage URL of the KV database (``sqlite:////abs/path/kv.sqlite3``)."""
        return f"sqlite:///{self.kv_db}"

    @property
    def do_url(self) -> str:
        """Storage URL of the Durable Object database."""
        return f"sqlite:///{self.do_db}"


def state_paths(
    config_dir: str | Path | None,
    persist_to: str | Path | None = None,
    *,
    cwd: str | Path | None = None,
) -> StatePaths:
    """Resolve the state root and its database files.

    ``config_dir`` is the directory of the config file (None when there is none);
    ``persist_to`` is the ``--persist-to`` value, resolved against ``cwd`` (default: the
    process's working directory). Paths are made absolute; nothing touches the disk.
    """
    base = Path(cwd) if cwd is not None else Path.cwd()
    if persist_to is not None and str(persist_to) != "":
        root = base / Path(persist_to).expanduser()
    else:
        root = (base / Path(config_dir) if config_dir is not None else base) / STATE_DIR_NAME
    root = root.resolve()
    return StatePaths(root=root, kv_db=root / KV_DB_NAME, do_db=root / DO_DB_NAME)
