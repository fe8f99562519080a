"""Alarms: one persisted alarm per object, fired by a scheduler
(docs/durable-objects.md, "Alarms" and "ctx.storage").

Contract:
- Alarms live in the storage engine's space ``do-alarms``, key ``<unique key>\\x00<id hex>``,
  value JSON ``{"t": epoch ms, "n": name or null, "r": retry count}``. They survive restarts:
  on ``start`` every stored alarm is loaded, and those already due fire at once.
- ``getAlarm`` returns ``None`` while the alarm's own handler runs, unless the handler set a new
  one (Cloudflare's documented behaviour).
- A handler that raises is retried with exponential backoff (2 s, 4 s, 8 s, ...), at most
  ``alarm_max_retries`` (6) times, each retry persisted with its count; then the alarm is
  dropped. A handler that returns deletes the alarm unless it set a new one.
- Due-ness is judged with the injected ``Clock``; the background loop sleeps in real time
  (at most ``poll_seconds``) and is woken early when an earlier alarm is set. Tests with a
  ``FakeClock`` call ``run_due()`` directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from edgekv.clock import Clock
from edgekv.durable_objects.limits import DurableObjectLimits
from edgekv.storage.base import Store

__all__ = ["ALARM_SPACE", "AlarmInfo", "AlarmScheduler"]

ALARM_SPACE = "do-alarms"
_log = logging.getLogger(__name__)

AlarmKey = tuple[str, str]  # (namespace unique key, id hex)


@dataclass(frozen=True, slots=True)
class AlarmInfo:
    """The ``alarm_info`` argument of ``alarm()``: ``retryCount``, ``isRetry`` and
    ``scheduledTime`` (epoch milliseconds the alarm was set for, as workerd passes it)."""

    retryCount: int
    isRetry: bool
    scheduledTime: float = 0.0

    @property
    def scheduled_time(self) -> float:
        return self.scheduledTime

    @property
    def retry_count(self) -> int:
        return self.retryCount

    @property
    def is_retry(self) -> bool:
        return self.isRetry


@dataclass(slots=True)
class _Alarm:
    millis: int
    name: str | None
    retry: int = 0
    running: bool = False  # taken for delivery (never fired twice)
    started: bool = False  # its handler runs: getAlarm() reports None
    scheduled: int = 0  # the time the user asked for (retries keep it)

    def __post_init__(self) -> None:
        if not self.scheduled:
            self.scheduled = self.millis


# deliver(key, name, info) -> True when the handler returned, False when it raised; None when
# the namespace is not registered (the alarm is kept for a later start).
# ``started()`` is called when the handler is about to run (after the object's input gate).
Deliver = Callable[
    [AlarmKey, "str | None", AlarmInfo, Callable[[], None]], Awaitable["bool | None"]
]


class AlarmScheduler:
    """Persists alarms and fires them through ``deliver``."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        deliver: Deliver,
        limits: DurableObjectLimits,
        poll_seconds: float = 0.25,
    ) -> None:
        self._store = store
        self._clock = clock
        self._deliver = deliver
        self._limits = limits
        self._poll_seconds = poll_seconds
        self._alarms: dict[AlarmKey, _Alarm] = {}
        self._heap: list[tuple[int, AlarmKey]] = []
        self._loaded = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    # -- persistence ----------------------------------------------------------------------

    @staticmethod
    def _store_key(key: AlarmKey) -> str:
        return f"{key[0]}\x00{key[1]}"

    async def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for record in await self._store.scan(ALARM_SPACE, values=True):
            ns_key, _, id_hex = record.key.partition("\x00")
            try:
                doc = json.loads(record.value or b"{}")
                alarm = _Alarm(
                    int(doc["t"]), doc.get("n"), int(doc.get("r", 0)), scheduled=int(doc.get("s", 0))
                )
            except (ValueError, KeyError, TypeError):
                _log.warning("dropping unreadable alarm record %r", record.key)
                continue
            self._alarms[(ns_key, id_hex)] = alarm
            heapq.heappush(self._heap, (alarm.millis, (ns_key, id_hex)))

    async def _persist(self, key: AlarmKey, alarm: _Alarm | None) -> None:
        if alarm is None:
            await self._store.delete(ALARM_SPACE, self._store_key(key))
            return
        doc = {"t": alarm.millis, "n": alarm.name, "r": alarm.retry, "s": alarm.scheduled}
        await self._store.put(ALARM_SPACE, self._store_key(key), json.dumps(doc).encode())

    def _schedule(self, key: AlarmKey, alarm: _Alarm) -> None:
        self._alarms[key] = alarm
        heapq.heappush(self._heap, (alarm.millis, key))
        self._wake.set()

    # -- the storage API ------------------------------------------------------------------

    def _now_millis(self) -> int:
        return int(self._clock.now() * 1000)

    async def get(self, key: AlarmKey) -> int | None:
        """The pending alarm time (epoch ms), ``None`` if none or only its handler is running."""
        await self._ensure_loaded()
        alarm = self._alarms.get(key)
        return None if alarm is None or alarm.started else alarm.millis

    async def peek(self, key: AlarmKey) -> tuple[int, str | None] | None:
        """The stored alarm (time, name), even while its handler runs; ``None`` if none."""
        await self._ensure_loaded()
        alarm = self._alarms.get(key)
        return None if alarm is None or alarm.running else (alarm.millis, alarm.name)

    async def set(self, key: AlarmKey, millis: int, name: str | None) -> None:
        """Replace the alarm; a time in the past is moved to now (as workerd does)."""
        await self._ensure_loaded()
        alarm = _Alarm(max(millis, self._now_millis()), name)
        await self._persist(key, alarm)
        self._schedule(key, alarm)

    async def delete(self, key: AlarmKey) -> None:
        """Cancel the alarm; a running handler is not interrupted."""
        await self._ensure_loaded()
        if self._alarms.pop(key, None) is not None:
            await self._persist(key, None)

    # -- firing ---------------------------------------------------------------------------

    def next_due_millis(self) -> int | None:
        """The earliest pending alarm time, or ``None``."""
        while self._heap:
            millis, key = self._heap[0]
            alarm = self._alarms.get(key)
            if alarm is not None and alarm.millis == millis and not alarm.running:
                return millis
            heapq.heappop(self._heap)  # stale entry
        return None

    def _take_due(self) -> list[tuple[AlarmKey, _Alarm]]:
        now = self._now_millis()
        due: list[tuple[AlarmKey, _Alarm]] = []
        while (millis := self.next_due_millis()) is not None and millis <= now:
            _, key = heapq.heappop(self._heap)
            alarm = self._alarms[key]
            alarm.running = True
            due.append((key, alarm))
        return due

    async def run_due(self) -> int:
        """Fire every alarm due now, concurrently across objects; wait for their handlers."""
        await self._ensure_loaded()
        due = self._take_due()
        if due:
            await asyncio.gather(*(self._fire(key, alarm) for key, alarm in due))
        return len(due)

    async def _fire(self, key: AlarmKey, alarm: _Alarm) -> None:
        info = AlarmInfo(
            retryCount=alarm.retry, isRetry=alarm.retry > 0, scheduledTime=float(alarm.scheduled)
        )
        try:
            ok = await self._deliver(key, alarm.name, info, lambda: setattr(alarm, "started", True))
        except Exception:  # noqa: BLE001 - the deliverer reports handler failures as False; this is a bug
            _log.exception("alarm delivery failed for %s", key)
            ok = False
        alarm.running = alarm.started = False
        if self._alarms.get(key) is not alarm:
            return  # the handler set or deleted the alarm: that decision stands
        if ok is None:  # no such namespace registered now: keep it for a later start
            return
        if ok or alarm.retry >= self._limits.alarm_max_retries:
            if not ok:
                _log.warning("alarm for %s failed %d retries; dropped", key, alarm.retry)
            del self._alarms[key]
            await self._persist(key, None)
            return
        delay = self._limits.alarm_first_retry_delay_seconds * (2**alarm.retry)
        retry = _Alarm(
            self._now_millis() + int(delay * 1000), alarm.name, alarm.retry + 1, scheduled=alarm.scheduled
        )
        await self._persist(key, retry)
        self._schedule(key, retry)

    async def run_now(self, key: AlarmKey) -> bool:
        """Run the alarm of ``key`` now if one is scheduled (and not running); ``True`` if so.

        A handler that fails is rescheduled as a retry, as when the alarm fires on time.
        """
        await self._ensure_loaded()
        alarm = self._alarms.get(key)
        if alarm is None or alarm.running:
            return False
        alarm.running = True
        await self._fire(key, alarm)
        return True

    # -- the background loop ----------------------------------------------------------------

    async def start(self) -> None:
        """Load persisted alarms and start firing them (overdue ones at once)."""
        await self._ensure_loaded()
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="edgekv-do-alarms")

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            for key, alarm in self._take_due():  # handlers run as tasks: a slow one blocks no other
                task = asyncio.create_task(self._fire(key, alarm))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            due = self.next_due_millis()
            delay = self._poll_seconds
            if due is not None:
                delay = min(delay, max(due - self._now_millis(), 0) / 1000)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def stop(self) -> None:
        """Stop the loop (idempotent). Alarms stay persisted."""
        task, self._task = self._task, None
        for pending in [task, *self._running]:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
