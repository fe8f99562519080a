"""Cron expressions as Cloudflare's Cron Triggers read them, and their next fire time.

Five fields, in UTC: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or
JAN-DEC), day of week (1-7 or SUN-SAT, where 1 is Sunday as in Cloudflare's docs; 0 is also
read as Sunday, as classic cron users write it). Each field takes ``*``, values, ranges
``a-b``, steps ``*/n`` and ``a-b/n``, and lists. Cloudflare's extras: ``L`` (last day of the
month, or ``5L`` the last Thursday), ``W`` (``15W``, the weekday nearest the 15th; ``LW``)
and ``#`` (``2#1``, the first Monday). When both day fields are restricted, a day matches
if either does (classic cron's rule).

:func:`parse_cron` raises ``ValueError`` naming the bad field; :meth:`CronSchedule.next_after`
gives the next matching minute after a moment.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from dataclasses import dataclass

__all__ = ["CronSchedule", "parse_cron"]

_MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
# Cloudflare numbers days 1 (SUN) .. 7 (SAT); internally 0 = Sunday .. 6 = Saturday.
_DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")


def _number(text: str, names: dict[str, int], low: int, high: int, field: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ValueError(f"invalid value {text!r} in the {field} field")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"value {value} out of range {low}-{high} in the {field} field")
    return value


def _simple(part: str, low: int, high: int, names: dict[str, int], field: str) -> set[int]:
    step = 1
    if "/" in part:
        part, step_text = part.split("/", 1)
        if not step_text.isdigit() or int(step_text) == 0:
            raise ValueError(f"invalid step {step_text!r} in the {field} field")
        step = int(step_text)
    if part == "*":
        start, end = low, high
    elif "-" in part:
        a, b = part.split("-", 1)
        start = _number(a, names, low, high, field)
        end = _number(b, names, low, high, field)
        if end < start:
            raise ValueError(f"range {part!r} runs backwards in the {field} field")
    else:
        start = _number(part, names, low, high, field)
        end = high if step != 1 else start
    return set(range(start, end + 1, step))


@dataclass(frozen=True)
class CronSchedule:
    """A parsed expression; ``text`` is the expression as configured (passed to handlers)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    dom: frozenset[int]
    dom_last: bool
    dom_weekday: frozenset[int]  # nW; 0 encodes LW
    dom_any: bool
    dow: frozenset[int]  # 0 = Sunday
    dow_last: frozenset[int]  # nL: last such weekday of the month
    dow_nth: frozenset[tuple[int, int]]  # (weekday, n): n#k
    dow_any: bool

    def _day_matches(self, day: _dt.date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        dom_hit = (
            day.day in self.dom
            or (self.dom_last and day.day == last)
            or any(_nearest_weekday(day.year, day.month, n or last) == day.day
                   for n in self.dom_weekday)
        )
        weekday = (day.weekday() + 1) % 7
        dow_hit = (
            weekday in self.dow
            or (weekday in self.dow_last and day.day + 7 > last)
            or (weekday, (day.day - 1) // 7 + 1) in self.dow_nth
        )
        if self.dom_any and self.dow_any:
            return True
        if self.dom_any:
            return dow_hit
        if self.dow_any:
            return dom_hit
        return dom_hit or dow_hit

    def matches(self, moment: _dt.datetime) -> bool:
        """Whether the minute of ``moment`` (UTC) is a fire time."""
        return (moment.minute in self.minutes and moment.hour in self.hours
                and moment.month in self.months and self._day_matches(moment.date()))

    def next_after(self, moment: _dt.datetime) -> _dt.datetime:
        """The first fire time strictly after ``moment`` (an aware UTC datetime).

        Searches day by day, then minute by minute inside a matching day, up to eight
        years ahead (a ``30 2 31 2 *`` that never fires raises ``ValueError``).
        """
        start = moment.astimezone(_dt.UTC).replace(second=0, microsecond=0)
        start += _dt.timedelta(minutes=1)
        day = start.date()
        for _ in range(366 * 8):
            if day.month in self.months and self._day_matches(day):
                first = start if day == start.date() else None
                for hour in sorted(self.hours):
                    if first is not None and hour < first.hour:
                        continue
                    for minute in sorted(self.minutes):
                        if first is not None and hour == first.hour and minute < first.minute:
                            continue
                        return _dt.datetime(day.year, day.month, day.day, hour, minute,
                                            tzinfo=_dt.UTC)
            day += _dt.timedelta(days=1)
        raise ValueError(f"the cron expression {self.text!r} never fires")


def _nearest_weekday(year: int, month: int, n: int) -> int:
    last = calendar.monthrange(year, month)[1]
    n = min(n, last)
    weekday = _dt.date(year, month, n).weekday()  # 0 = Monday
    if weekday == 5:  # Saturday: Friday before, unless that leaves the month
        return n - 1 if n > 1 else n + 2
    if weekday == 6:  # Sunday: Monday after, unless that leaves the month
        return n + 1 if n < last else n - 2
    return n


def parse_cron(text: str) -> CronSchedule:
    """Parse a Cron Trigger expression (see module docstring). Raises ``ValueError``."""
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    minute, hour, dom_text, month, dow_text = fields
    minutes = set().union(*(_simple(p, 0, 59, {}, _FIELD_NAMES[0]) for p in minute.split(",")))
    hours = set().union(*(_simple(p, 0, 23, {}, _FIELD_NAMES[1]) for p in hour.split(",")))
    months = set().union(*(_simple(p, 1, 12, _MONTHS, _FIELD_NAMES[3])
                           for p in month.split(",")))
    dom: set[int] = set()
    dom_weekday: set[int] = set()
    dom_last = False
    dom_any = dom_text in ("*", "?")
    if not dom_any:
        for part in dom_text.split(","):
            upper = part.upper()
            if upper == "L":
                dom_last = True
            elif upper == "LW":
                dom_weekday.add(0)
            elif upper.endswith("W"):
                dom_weekday.add(_number(upper[:-1], {}, 1, 31, _FIELD_NAMES[2]))
            else:
                dom |= _simple(part, 1, 31, {}, _FIELD_NAMES[2])
    dow: set[int] = set()
    dow_last: set[int] = set()
    dow_nth: set[tuple[int, int]] = set()
    dow_any = dow_text in ("*", "?")
    if not dow_any:
        for part in dow_text.split(","):
            upper = part.upper()
            if "#" in upper:
                day_text, nth = upper.split("#", 1)
                if not nth.isdigit() or not 1 <= int(nth) <= 5:
                    raise ValueError(f"invalid {part!r} in the day of week field")
                dow_nth.add((_weekday(day_text), int(nth)))
            elif upper.endswith("L") and upper != "L":
                dow_last.add(_weekday(upper[:-1]))
            elif upper == "L":
                dow.add(6)  # L alone in the day of week field: Saturday, the week's last day
            else:
                dow |= {_cf_to_weekday(v) for v in _simple(part, 0, 7, _CF_DAYS, _FIELD_NAMES[4])}
    return CronSchedule(
        text=text, minutes=frozenset(minutes), hours=frozenset(hours), months=frozenset(months),
        dom=frozenset(dom), dom_last=dom_last, dom_weekday=frozenset(dom_weekday),
        dom_any=dom_any, dow=frozenset(dow), dow_last=frozenset(dow_last),
        dow_nth=frozenset(dow_nth), dow_any=dow_any,
    )


# Day names in Cloudflare's numbering (1 = SUN), for ranges like MON-FRI.
_CF_DAYS = {name: i + 1 for name, i in _DAYS.items()}


def _cf_to_weekday(value: int) -> int:
    return 0 if value == 0 else value - 1


def _weekday(text: str) -> int:
    return _cf_to_weekday(_number(text, _CF_DAYS, 0, 7, _FIELD_NAMES[4]))
