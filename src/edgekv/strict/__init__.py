"""Strict mode: warn before Cloudflare fails (``edgekv dev --strict``, ``pytest --edgekv-strict``).

It reports, with the file and line, what runs on CPython but fails or misbehaves on
Cloudflare's Python Workers (Pyodide in workerd):

- imports of packages with native extensions that Pyodide does not build (``imports``);
- threads and subprocesses started by the Worker's code (``guards``);
- handlers that block the event loop for more than 100 ms (``watchdog``);
- CPU time per request beyond ``limits.cpu_ms`` and memory beyond an isolate's 128 MB
  (``budget``);
- randomness or time read while the Worker's modules are imported (``guards``).

Findings are logged on ``edgekv.strict`` (once per place) and collected in
``StrictMode.reporter.findings``. Usage::

    strict = StrictMode.for_config(config)
    with strict.importing():
        runtime = await WorkerRuntime.open(config, ...)
    strict.attach(runtime)          # reloads are watched too; starts the watchdog
    app = strict.wrap(app)          # CPU and memory per request
    ...
    strict.close()
"""

from __future__ import annotations

import contextlib
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgekv.strict import guards
from edgekv.strict.budget import DEFAULT_CPU_MS, ISOLATE_MEMORY_BYTES, RequestBudget
from edgekv.strict.guards import WatchedWorker
from edgekv.strict.imports import scan_imports
from edgekv.strict.report import Finding, StrictModeWarning, StrictReporter
from edgekv.strict.watchdog import LoopWatchdog

__all__ = ["Finding", "StrictMode", "StrictModeWarning", "StrictReporter", "config_cpu_ms"]


def config_cpu_ms(config: Any) -> int:
    """``limits.cpu_ms`` of the config file (the top level), or Cloudflare's default."""
    path = getattr(config, "config_path", None)
    if path is None:
        return DEFAULT_CPU_MS
    from edgekv.config.parse import read_raw_config
    from edgekv.errors import ConfigError

    try:
        raw = read_raw_config(Path(path))
    except ConfigError:
        return DEFAULT_CPU_MS
    limits = raw.get("limits")
    value = limits.get("cpu_ms") if isinstance(limits, dict) else None
    return value if isinstance(value, int) and value > 0 else DEFAULT_CPU_MS


class StrictMode:
    """Strict mode for one Worker whose code lives in ``roots``."""

    def __init__(self, roots: tuple[Path, ...], *, reporter: StrictReporter | None = None,
                 cpu_ms: int = DEFAULT_CPU_MS, memory_bytes: int = ISOLATE_MEMORY_BYTES,
                 block_threshold_seconds: float = 0.1) -> None:
        self.reporter = reporter or StrictReporter()
        self.worker = WatchedWorker(roots, self.reporter)
        self.cpu_ms = cpu_ms
        self.memory_bytes = memory_bytes
        self.watchdog = LoopWatchdog(self.worker, block_threshold_seconds)
        self._started_tracing = False
        self._closed = False
        guards.watch(self.worker)

    @classmethod
    def for_config(cls, config: Any, **kwargs: Any) -> StrictMode:
        """Strict mode for the Worker of a loaded wrangler config."""
        roots: list[Path] = []
        if config.config_dir is not None:
            roots.append(Path(config.config_dir))
        if config.main_path is not None and not any(
                config.main_path.parent.is_relative_to(r) for r in roots):
            roots.append(config.main_path.parent)
        kwargs.setdefault("cpu_ms", config_cpu_ms(config))
        return cls(tuple(roots) or (Path.cwd(),), **kwargs)

    def check_imports(self) -> None:
        """Scan the Worker's files for imports Pyodide cannot load."""
        for root in self.worker.roots:
            for where, message in scan_imports(root):
                self.reporter.report("import", where, message)

    @contextlib.contextmanager
    def importing(self) -> Iterator[None]:
        """Watch randomness and time read while the Worker's modules are imported."""
        self.check_imports()
        self.worker.importing = True
        try:
            yield
        finally:
            self.worker.importing = False

    def attach(self, runtime: Any) -> None:
        """Watch ``runtime``'s reloads, and start the event-loop watchdog (call on the loop)."""
        runtime.load_context = self.importing
        self.watchdog.start()

    def wrap(self, app: Any) -> RequestBudget:
        """``app`` measured per request (CPU time; memory, with tracemalloc on)."""
        if not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_tracing = True
        return RequestBudget(app, self.worker, cpu_ms=self.cpu_ms, memory_bytes=self.memory_bytes)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.watchdog.stop()
        guards.unwatch(self.worker)
        if self._started_tracing:
            tracemalloc.stop()
