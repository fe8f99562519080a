"""One server per state folder: ``StateLock``.

Two servers on one state folder would each cache the same Durable Object and overwrite each
other's writes (an acknowledged write lost). So a server (``edgekv dev``, ``edgekv serve``)
holds an exclusive OS lock on ``<state>/server.lock`` for as long as it runs:

- the lock is ``flock(LOCK_EX | LOCK_NB)`` on an open file, so the **kernel** releases it
  when the process ends, however it ends: a ``kill -9`` never leaves a stale lock;
- the file records the owner (pid, address, start time) as one JSON object, so a second
  server can refuse with one line naming the owner (``StateFolderLocked``);
- the file itself stays behind (deleting it would race with a new owner); what counts is the
  OS lock, never the file's existence or content.

The CLI does not take this lock: KV, accounts and tokens live in SQLite, whose own locking
lets ``edgekv kv ...`` write beside a running server. Durable Object storage is only ever
opened by the server that owns the folder.

On systems without ``fcntl`` (Windows) the lock is not enforced.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Self

from edgekv.errors import EdgeKVError

__all__ = ["LOCK_FILE_NAME", "LockOwner", "StateFolderLocked", "StateLock"]

LOCK_FILE_NAME = "server.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class LockOwner:
    """Who holds a state folder: pid, the address it serves (may be empty), start time (epoch s)."""

    pid: int
    address: str
    started: float

    def describe(self) -> str:
        """``pid 123, serving http://127.0.0.1:8787, since 2026-12-03 09:30:00 UTC``."""
        parts = [f"pid {self.pid}"]
        if self.address:
            parts.append(f"serving {self.address}")
        if self.started:
            parts.append("since " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started)))
        return ", ".join(parts)


class StateFolderLocked(EdgeKVError):
    """Another live process owns the state folder. ``str(error)`` is one line for the user."""

    def __init__(self, root: Path, owner: LockOwner | None) -> None:
        who = f"another edgekv server ({owner.describe()})" if owner else "another edgekv server"
        super().__init__(
            f"The state folder {root} is in use by {who}. Stop that server, or give this one "
            "its own folder with --persist-to DIR."
        )
        self.root = root
        self.owner = owner


class StateLock:
    """The exclusive lock of one state folder. ``acquire`` it before opening any store.

    Usage::

        lock = StateLock(state.root)
        lock.acquire()              # raises StateFolderLocked naming the owner
        lock.update(address=url)    # once the port is known
        ...
        lock.release()              # idempotent; the OS releases it anyway on exit
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_FILE_NAME
        self._handle: IO[str] | None = None
        self._started = 0.0

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self, address: str = "") -> None:
        """Take the lock (creating the folder). Raises ``StateFolderLocked`` if another
        process holds it, ``OSError`` if the folder cannot be written."""
        if self._handle is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        # "a+": never truncate before we own the lock (the owner's record must stay readable).
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held while serving
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise StateFolderLocked(self.root, self.owner()) from None
            except OSError:
                handle.close()
                raise
        self._handle = handle
        self._started = time.time()
        self._write(address)

    def update(self, *, address: str) -> None:
        """Record the address the owner serves (known only after the socket is bound)."""
        if self._handle is not None:
            self._write(address)

    def _write(self, address: str) -> None:
        assert self._handle is not None
        record = {"pid": os.getpid(), "address": address, "started": self._started}
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()

    def owner(self) -> LockOwner | None:
        """The recorded owner, if the lock file holds a readable record."""
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
            return LockOwner(int(data["pid"]), str(data.get("address") or ""),
                             float(data.get("started") or 0.0))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def is_locked(self) -> bool:
        """Whether some process (this one included) holds the lock now."""
        if self._handle is not None:
            return True
        if fcntl is None or not self.path.exists():
            return False
        try:
            with open(self.path, encoding="utf-8") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    return True
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                return False
        except OSError:
            return False

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # closing the descriptor drops the flock

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
