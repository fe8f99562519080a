"""Compatibility dates and flags that change Durable Object behaviour (workerd's table).

``Compatibility(date, flags)`` answers ``enabled(flag)``: a flag is on when named in
``compatibility_flags``, off when its disable flag is named, else on from its enable date.
The table lists only the behaviours edgekv gates (see docs/durable-objects.md):

=========================== ============================ ============ =======================
flag                        disable flag                 enable date  effect
=========================== ============================ ============ =======================
delete_all_deletes_alarm    delete_all_preserves_alarm   2026-02-24   ``deleteAll()`` also
                                                                      deletes the alarm
=========================== ============================ ============ =======================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FLAGS", "Compatibility"]

# flag -> (disable flag, enable date or None for flag-only)
FLAGS: dict[str, tuple[str, str | None]] = {
    "delete_all_deletes_alarm": ("delete_all_preserves_alarm", "2026-02-24"),
}


@dataclass(frozen=True, slots=True)
class Compatibility:
    """A Worker's ``compatibility_date`` (``YYYY-MM-DD``) and ``compatibility_flags``."""

    date: str = "2000-01-01"
    flags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, date: str | None, flags: Iterable[str] | None = None) -> Compatibility:
        """Build from config values (``None`` date: the oldest behaviour)."""
        return cls(date or "2000-01-01", frozenset(flags or ()))

    def enabled(self, flag: str) -> bool:
        """Whether ``flag`` is in effect. Raises ``KeyError`` for a flag not in ``FLAGS``."""
        disable, since = FLAGS[flag]
        if flag in self.flags:
            return True
        if disable in self.flags:
            return False
        return since is not None and self.date >= since
