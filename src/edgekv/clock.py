"""Injected time. Nothing in edgekv reads the wall clock except ``SystemClock``."""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> float:
        """Seconds since the Unix epoch (fractional)."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        return time.time()


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """A clock that only moves when told to; for tests (Miniflare's tests freeze at 1000 s)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def set(self, seconds: float) -> None:
        """Jump to an absolute time (seconds since the epoch)."""
        self._now = float(seconds)

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``."""
        self._now += seconds
