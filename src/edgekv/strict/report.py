"""``StrictReporter``: where strict-mode findings go, each reported once per place."""

from __future__ import annotations

import logging
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = ["Finding", "StrictModeWarning", "StrictReporter", "user_location"]

logger = logging.getLogger("edgekv.strict")

# Folders inside a project that hold other people's code, not the Worker's.
_VENDORED = {".venv", "venv", "python_modules", "site-packages", "node_modules", ".edgekv"}


class StrictModeWarning(UserWarning):
    """Something that runs on CPython but fails or misbehaves on Cloudflare's Python Workers."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: its ``kind`` (``import``, ``thread``, ``subprocess``, ``blocking``,
    ``cpu``, ``memory``, ``import-time``), where (``file:line``, or ``None``) and what."""

    kind: str
    location: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"[strict] {where}{self.message}"


def user_location(frames: Iterable[FrameType | traceback.FrameSummary], roots: tuple[Path, ...]) -> str | None:
    """``path:line`` of the innermost frame inside the Worker's folders (relative to the
    folder), or ``None`` when no frame is the Worker's."""
    found = None
    for frame in frames:
        if isinstance(frame, traceback.FrameSummary):
            filename, line = frame.filename, frame.lineno
        else:
            filename, line = frame.f_code.co_filename, frame.f_lineno
        path = Path(filename)
        for root in roots:
            if path.is_relative_to(root):
                relative = path.relative_to(root)
                if not _VENDORED.intersection(relative.parts[:-1]):
                    found = f"{relative.as_posix()}:{line}"
    return found


def stack_frames(start: FrameType | None = None) -> list[FrameType]:
    """The frames from the outermost to ``start`` (default: the caller's)."""
    frame: FrameType | None = start or sys._getframe(1)
    frames: list[FrameType] = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    return frames


class StrictReporter:
    """Collects findings; logs each new one as a warning and passes it to ``sink``.

    ``as_warnings=True`` also raises a ``StrictModeWarning`` (the pytest option uses this,
    so ``-W error::edgekv.strict.StrictModeWarning`` turns findings into failures).
    """

    def __init__(self, *, sink: Callable[[Finding], None] | None = None, as_warnings: bool = False) -> None:
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str | None, str]] = set()
        self.sink = sink
        self.as_warnings = as_warnings

    def report(self, kind: str, location: str | None, message: str) -> None:
        key = (kind, location, message)
        if key in self._seen:
            return
        self._seen.add(key)
        finding = Finding(kind, location, message)
        self.findings.append(finding)
        logger.warning("%s", finding)
        if self.sink is not None:
            self.sink(finding)
        if self.as_warnings:
            warnings.warn(str(finding), StrictModeWarning, stacklevel=2)
