"""``CronScheduler``: fire the Worker's ``triggers.crons`` on schedule, in UTC.

The scheduler reads ``runtime.config.crons`` before each wait, so a reload that changes the
triggers takes effect at the next fire time. When several expressions name the same minute,
each fires once, in config order, with its own ``controller.cron``. A failing
``scheduled()`` is logged (``edgekv.runtime``) and the schedule goes on, as on Cloudflare.
In a cluster, only the primary location runs the scheduler (the caller decides, see
``DevServer(run_crons=...)``).

Waiting uses the event loop's timer against wall-clock UTC (``time.time``): a cron fire is a
real-world moment. ``scheduledTime`` passed to the Worker is the planned minute, not the
moment the timer woke, as Cloudflare passes it.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import time
from collections.abc import Callable

from edgekv.config.cron import parse_cron
from edgekv.runtime.worker import WorkerRuntime

__all__ = ["CronScheduler", "next_fire"]

logger = logging.getLogger("edgekv.dev")


def next_fire(crons: tuple[str, ...], after: _dt.datetime) -> tuple[_dt.datetime, list[str]]:
    """The next moment any of ``crons`` fires after ``after``, and the expressions due then.

    Raises ``ValueError`` when ``crons`` is empty.
    """
    if not crons:
        raise ValueError("no cron triggers")
    due: dict[str, _dt.datetime] = {}
    for cron in crons:
        try:
            due[cron] = parse_cron(cron).next_after(after)
        except ValueError:
            continue  # reported by the config loader; never fires
    if not due:
        raise ValueError("no cron trigger ever fires")
    first = min(due.values())
    return first, [cron for cron in crons if due.get(cron) == first]


class CronScheduler:
    """Runs ``runtime``'s cron triggers until cancelled."""

    def __init__(
        self, runtime: WorkerRuntime, *, now: Callable[[], float] = time.time
    ) -> None:
        self.runtime = runtime
        self._now = now
        self.fired: list[tuple[str, float]] = []  # (cron, scheduledTime s), for inspection

    async def run_forever(self) -> None:
        """Wait for each fire time and run ``scheduled()``; returns when no crons are set."""
        while True:
            crons = tuple(self.runtime.config.crons)
            if not crons:
                await asyncio.sleep(5.0)  # a reload may add triggers
                continue
            moment = _dt.datetime.fromtimestamp(self._now(), _dt.UTC)
            try:
                when, due = next_fire(crons, moment)
            except ValueError:
                await asyncio.sleep(60.0)
                continue
            delay = when.timestamp() - self._now()
            # Sleep in bounded steps so a changed config or a clock jump is noticed.
            await asyncio.sleep(max(0.0, min(delay, 30.0)))
            if self._now() < when.timestamp() or tuple(self.runtime.config.crons) != crons:
                continue
            for cron in due:
                await self.fire(cron, when.timestamp())

    async def fire(self, cron: str, scheduled_time: float) -> None:
        """Run one scheduled event now (errors are logged, never raised)."""
        self.fired.append((cron, scheduled_time))
        outcome = await self.runtime.run_scheduled(cron, scheduled_time)
        logger.info('Scheduled event "%s" at %s: %s', cron,
                    _dt.datetime.fromtimestamp(scheduled_time, _dt.UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"), outcome.outcome)
