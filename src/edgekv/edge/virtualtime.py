"""An asyncio event loop on simulated time, for the planet-scale simulation.

``VirtualTimeLoop`` runs ordinary asyncio code (the real ``CachedStore``, ``asyncio.sleep``,
``asyncio.timeout``) but never waits: when nothing is ready, its clock jumps to the next
scheduled timer. A simulated hour of 300 locations then takes as long as its events take to
compute. Real I/O still works (the loop polls it without blocking), so only code that waits
on nothing but timers should run here. ``LoopClock`` is the matching injected ``Clock``.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any

__all__ = ["LoopClock", "VirtualTimeLoop"]


class _SkippingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Polls for real I/O; when there is none, advances the loop's clock by the timeout the
    loop would have slept for (the time until its next timer)."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready:
            return ready  # type: ignore[no-any-return]
        if timeout is None:  # no timer at all: only real I/O (a thread) can wake the loop
            return super().select(None)  # type: ignore[no-any-return]
        if timeout > 0 and self.loop is not None:
            self.loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is simulated, starting at ``start`` seconds."""

    def __init__(self, start: float = 0.0) -> None:
        selector = _SkippingSelector()
        self._virtual_now = float(start)
        super().__init__(selector)
        selector.loop = self

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (the selector does this when the loop would sleep)."""
        self._virtual_now += seconds


class LoopClock:
    """A ``Clock`` that reads the running loop's time, offset to a Unix epoch ``epoch``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, epoch: float = 1_700_000_000.0) -> None:
        self._loop = loop
        self._epoch = epoch

    def now(self) -> float:
        return self._epoch + self._loop.time()
