"""``CronScheduler``: fire the Worker's ``triggers.crons`` on schedule, in UTC.

The scheduler reads ``runtime.config.crons`` before each wait, so a reload that changes the
triggers takes effect at the next fire time. When several expressions name the same minute,
each fires once, started in config order, with its own ``controller.cron``. A failing
``scheduled()`` is logged (``edgekv.runtime``) and the schedule goes on, as on Cloudflare.
In a cluster, only the primary location runs the scheduler (the caller decides, see
``DevServer(run_crons=...)``).

Each scheduled event runs as a task of its own, as each is an invocation of its own on
Cloudflare (where one may run for minutes): a ``scheduled()`` still running at the next fire
time neither delays nor cancels that fire, and events due together run concurrently.

Waiting uses the event loop's timer against wall-clock UTC (``time.time``): a cron fire is a
real-world moment. ``scheduledTime`` passed to the Worker is the planned minute, not the
moment the timer woke, as Cloudflare passes it. A fire time is kept once planned (until the
triggers change or the clock is set back): a wake before it waits again for the same one, so
no fire time is stepped over. When the loop could not run at a fire time (blocked, or the
process suspended), that fire runs once, late; fire times that passed after it are not
replayed, and a warning counts them.
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

_MISSED_COUNTED = 1000  # missed fire times counted for the warning, at most


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
        self._running: set[asyncio.Task[None]] = set()  # events not finished yet

    async def run_forever(self) -> None:
        """Wait for each fire time and start ``scheduled()``; when cancelled, cancels the
        events still running."""
        try:
            await self._schedule()
        finally:
            running = list(self._running)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _schedule(self) -> None:
        # (triggers, clock when planned, fire time, expressions due then)
        plan: tuple[tuple[str, ...], float, float, list[str]] | None = None
        while True:
            crons = tuple(self.runtime.config.crons)
            if not crons:
                plan = None
                await asyncio.sleep(5.0)  # a reload may add triggers
                continue
            now = self._now()
            # Planned again only for new triggers or a clock set back. Planning again from
            # the clock after a wake that came before the fire time could step over that
            # fire time: the clock may pass it between the two readings.
            if plan is None or plan[0] != crons or now < plan[1]:
                try:
                    when, due = next_fire(crons, _dt.datetime.fromtimestamp(now, _dt.UTC))
                except ValueError:
                    plan = None
                    await asyncio.sleep(60.0)
                    continue
                plan = (crons, now, when.timestamp(), due)
            _, _, fire_at, due = plan
            if now < fire_at:
                # Sleep in bounded steps so a changed config or a clock jump is noticed.
                await asyncio.sleep(min(fire_at - now, 30.0))
                continue
            plan = None  # the next one is planned from the clock, past this one
            for cron in due:
                self._start(cron, fire_at)
            self._warn_missed(crons, fire_at, now)

    def _start(self, cron: str, scheduled_time: float) -> None:
        task = asyncio.get_running_loop().create_task(
            self.fire(cron, scheduled_time), name=f"edgekv-scheduled {cron}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def _warn_missed(self, crons: tuple[str, ...], fired_at: float, now: float) -> None:
        """Count the fire times after ``fired_at`` that the clock already passed (the loop
        woke late): they are not replayed, but not passed over in silence either."""
        missed = 0
        after = _dt.datetime.fromtimestamp(fired_at, _dt.UTC)
        while missed < _MISSED_COUNTED:  # bounded: a clock jumped years ahead costs ~40 ms
            try:
                after, due = next_fire(crons, after)
            except ValueError:
                break  # nothing fires again
            if after.timestamp() > now:
                break
            missed += len(due)
        if missed:
            logger.warning("%s scheduled event(s) after %s not run: the scheduler woke at %s "
                           "(the event loop was blocked or the process suspended)",
                           missed if missed < _MISSED_COUNTED else f"{_MISSED_COUNTED} or more",
                           _dt.datetime.fromtimestamp(fired_at, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           _dt.datetime.fromtimestamp(now, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    async def fire(self, cron: str, scheduled_time: float) -> None:
        """Run one scheduled event now (errors are logged, never raised)."""
        self.fired.append((cron, scheduled_time))
        outcome = await self.runtime.run_scheduled(cron, scheduled_time)
        logger.info('Scheduled event "%s" at %s: %s', cron,
                    _dt.datetime.fromtimestamp(scheduled_time, _dt.UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"), outcome.outcome)
