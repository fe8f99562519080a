"""``did_you_mean``: the closest known name to a mistyped one, for error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name`` (case-insensitive, at least 60 % alike), or None."""
    candidates = {k.lower(): k for k in known}
    lowered = name.lower()
    if lowered in candidates and candidates[lowered] != name:
        return candidates[lowered]
    matches = difflib.get_close_matches(lowered, list(candidates), n=1, cutoff=0.6)
    return candidates[matches[0]] if matches else None
