"""``LoopWatchdog``: names the Worker code that blocks the event loop.

A callback on the loop stamps the time every 20 ms; a thread checks the stamp. When the loop
has not run for ``threshold_seconds`` (100 ms), the thread reads the loop thread's current
stack and reports the Worker's innermost frame (``time.sleep``, a blocking socket or file
read, a long computation). On Cloudflare a blocked isolate stalls every request it serves.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time

from edgekv.strict.guards import WatchedWorker
from edgekv.strict.report import stack_frames

__all__ = ["LoopWatchdog"]

_BEAT_SECONDS = 0.02


class LoopWatchdog:
    """Watch the running loop for blocking calls made by ``worker``'s code."""

    def __init__(self, worker: WatchedWorker, threshold_seconds: float = 0.1) -> None:
        self.worker = worker
        self.threshold_seconds = threshold_seconds
        self._last_beat = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._loop_thread = 0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._beat(loop)
        self._thread = threading.Thread(target=self._run, name="edgekv-strict-watchdog", daemon=True)
        # started through the original Thread.start: the guard only reports Worker frames
        self._thread.start()

    def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        self._last_beat = time.monotonic()
        if not self._stop.is_set():
            self._handle = loop.call_later(_BEAT_SECONDS, self._beat, loop)

    def _run(self) -> None:
        reported_for = 0.0
        while not self._stop.wait(_BEAT_SECONDS):
            stalled = time.monotonic() - self._last_beat
            if stalled < self.threshold_seconds or self._last_beat == reported_for:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            frames = stack_frames(frame)
            where = None
            for candidate in reversed(frames):
                from edgekv.strict.report import user_location

                where = user_location([candidate], self.worker.roots)
                if where is not None:
                    break
            if where is not None:
                reported_for = self._last_beat
                self.worker.reporter.report(
                    "blocking", where,
                    f"blocks the event loop for more than {self.threshold_seconds * 1000:.0f} ms "
                    "(a blocking call such as time.sleep, requests, or a long computation): "
                    "on Cloudflare it stalls every request of the isolate; use await")

    def stop(self) -> None:
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
        if self._thread is not None:
            self._thread.join(timeout=1)
