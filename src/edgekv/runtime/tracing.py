"""``TracedBinding``: with ``--log-level debug``, each binding call is logged with its kind,
binding, method, key and duration (``KV TODO.get('to-do:123') 0.04ms``).

Bindings are wrapped only when the ``edgekv.bindings`` logger is at DEBUG when ``env`` is
built, so the normal request path pays nothing.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from typing import Any

__all__ = ["TracedBinding", "tracing_enabled"]

logger = logging.getLogger("edgekv.bindings")


def tracing_enabled() -> bool:
    return logger.isEnabledFor(logging.DEBUG)


def _shown(args: tuple[Any, ...]) -> str:
    if not args:
        return ""
    first = args[0]
    text = repr(first) if isinstance(first, str) else f"<{len(first)} keys>" if isinstance(first, list) else repr(first)
    return text if len(text) <= 80 else text[:77] + "..."


class TracedBinding:
    """A binding whose method calls are logged (the binding itself does the work)."""

    def __init__(self, kind: str, name: str, binding: Any) -> None:
        self._kind = kind
        self._name = name
        self._binding = binding

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._binding, attr)
        if attr.startswith("_") or not callable(target):
            return target

        @functools.wraps(target)
        def traced(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = target(*args, **kwargs)
            if not inspect.isawaitable(result):
                self._log(attr, args, started, "")
                return result

            async def finish() -> Any:
                outcome = ""
                try:
                    return await result
                except BaseException as exc:
                    outcome = f" -> {type(exc).__name__}"
                    raise
                finally:
                    self._log(attr, args, started, outcome)

            return finish()

        return traced

    def _log(self, method: str, args: tuple[Any, ...], started: float, outcome: str) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        logger.debug("%s %s.%s(%s) %.2fms%s", self._kind, self._name, method, _shown(args),
                     elapsed, outcome)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return repr(self._binding)
