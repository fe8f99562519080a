"""Runtime guards of strict mode: threads, subprocesses, and randomness or time at import.

- **Threads and subprocesses.** Pyodide has no threads and no processes: on Cloudflare,
  ``Thread.start()`` and ``subprocess`` fail. ``threading.Thread.start`` is wrapped and
  ``subprocess.Popen``/``os.system``/``os.fork``/``os.posix_spawn`` are watched through an
  audit hook. A finding is reported only when the call comes from the Worker's own code
  (the innermost frame outside the standard library is in the Worker's folder), so edgekv's
  own worker threads and libraries' are not reported.
- **Randomness and time at import.** Cloudflare snapshots a Worker's module state at deploy
  time; random values or the clock read at the top level end up frozen in that snapshot
  (and workerd refuses some of them). While the Worker's modules are imported, the usual
  sources (``random.*``, ``os.urandom``, ``secrets.*``, ``uuid.uuid4``, ``time.time``) report
  their caller. ``datetime.now()`` (a C method) cannot be watched.

The wrappers stay installed once strict mode was used, and cost one flag test per call
when nothing is watching.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgekv.strict.report import StrictReporter, stack_frames, user_location

__all__ = ["WatchedWorker", "install"]

_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
_EDGEKV = Path(__file__).resolve().parents[1]
_AUDITED = {"subprocess.Popen": "starts a subprocess (subprocess)",
            "os.system": "runs a shell command (os.system)",
            "os.fork": "forks the process (os.fork)",
            "os.posix_spawn": "spawns a process (os.posix_spawn)"}
_IMPORT_TIME_SOURCES = {
    "random": ("random", "randint", "randrange", "choice", "choices", "shuffle", "sample",
               "uniform", "getrandbits", "randbytes", "gauss"),
    "os": ("urandom",),
    "secrets": ("token_bytes", "token_hex", "token_urlsafe", "randbelow", "choice"),
    "uuid": ("uuid1", "uuid4"),
    "time": ("time", "time_ns"),
}


class WatchedWorker:
    """One Worker being watched: its folders and where findings go."""

    def __init__(self, roots: tuple[Path, ...], reporter: StrictReporter) -> None:
        self.roots = tuple(r.resolve() for r in roots)
        self.reporter = reporter
        self.importing = False

    def caller(self) -> str | None:
        """Where the Worker's code made the current call, or ``None`` if it did not.

        Walks from the innermost frame outwards: the standard library and third-party code
        are passed over (a library the Worker calls fails on Cloudflare as well), the first
        frame of the Worker's own files answers, and edgekv's own machinery (its worker
        threads, its storage) means the call is not the Worker's.
        """
        for frame in reversed(stack_frames(sys._getframe(1))):
            path = Path(frame.f_code.co_filename)
            if not path.is_absolute() or path.is_relative_to(_STDLIB):
                continue
            where = user_location([frame], self.roots)
            if where is not None:
                return where
            if path.is_relative_to(_EDGEKV) and "strict" not in path.relative_to(_EDGEKV).parts:
                return None
        return None


_watched: list[WatchedWorker] = []
_busy = threading.local()
_installed = False


def _report(kind: str, message: str) -> None:
    if getattr(_busy, "on", False):
        return
    _busy.on = True
    try:
        for worker in _watched:
            where = worker.caller()
            if where is not None:
                worker.reporter.report(kind, where, message)
    finally:
        _busy.on = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watched and event in _AUDITED:
        _report("subprocess", f"{_AUDITED[event]}: Python Workers on Cloudflare cannot start processes")


def _wrap_import_time(module: Any, name: str) -> None:
    original: Callable[..., Any] = getattr(module, name)

    @functools.wraps(original)
    def watched(*args: Any, **kwargs: Any) -> Any:
        if _watched and not getattr(_busy, "on", False):
            _busy.on = True  # reporting logs, and logging reads the clock: no recursion
            try:
                _report_import_time(module, name)
            finally:
                _busy.on = False
        return original(*args, **kwargs)

    setattr(module, name, watched)


def _report_import_time(module: Any, name: str) -> None:
    for worker in _watched:
        if not worker.importing:
            continue
        where = worker.caller()
        if where is not None:
            worker.reporter.report(
                "import-time", where,
                f"reads {module.__name__}.{name}() while the module is imported: Cloudflare "
                "snapshots module state at deploy, so the value is frozen for every request "
                "(call it inside a handler)")


def install() -> None:
    """Install the hooks once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    sys.addaudithook(_audit)
    original_start = threading.Thread.start

    @functools.wraps(original_start)
    def start(self: threading.Thread) -> None:
        if _watched:
            _report("thread", "starts a thread (threading.Thread.start): Python Workers on "
                              "Cloudflare have no threads")
        original_start(self)

    threading.Thread.start = start  # type: ignore[method-assign]
    import random
    import secrets
    import time
    import uuid

    modules = {"random": random, "os": os, "secrets": secrets, "uuid": uuid, "time": time}
    for module_name, names in _IMPORT_TIME_SOURCES.items():
        for name in names:
            _wrap_import_time(modules[module_name], name)


def watch(worker: WatchedWorker) -> None:
    install()
    _watched.append(worker)


def unwatch(worker: WatchedWorker) -> None:
    if worker in _watched:
        _watched.remove(worker)
