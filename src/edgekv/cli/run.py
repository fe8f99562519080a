"""The one way a command runs its async work: ``run``.

A command's coroutine runs on a fresh event loop (uvloop for the servers, ``edgekv dev``
and ``edgekv serve``, when it is installed: it serves HTTP faster; the stdlib loop for the
short-lived commands). The exceptions a command expects (its ``errors``) end it as wrangler
does, ``✘ [ERROR] <message>`` and exit code 1, with the message the command words for each;
anything else propagates (to the command, or to the root's one-line report).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from edgekv.cli.output import fail

__all__ = ["Reported", "run"]

T = TypeVar("T")

#: Exception class (or classes) -> the message the command fails with.
Reported = Mapping[type[BaseException] | tuple[type[BaseException], ...],
                  Callable[[BaseException], str]]


def run(work: Coroutine[Any, Any, T], *, errors: Reported | None = None,
        server: bool = False) -> T:
    """Run ``work`` to its end on a new event loop and return its result.

    ``errors`` is checked in order; the first class that matches turns the exception into
    the command's failure. ``server`` picks uvloop when it is installed."""
    try:
        if server:
            try:
                import uvloop
            except ImportError:
                return asyncio.run(work)
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(work)
        return asyncio.run(work)
    except BaseException as exc:
        for kinds, message in (errors or {}).items():
            if isinstance(exc, kinds):
                fail(message(exc))
        raise
