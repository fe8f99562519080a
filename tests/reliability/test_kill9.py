"""The kill -9 attacks with small counts (bench/reliability.py runs them large): no
acknowledged write may be lost (docs/reliability.md, "What counts as lost")."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.reliability.scenarios import SCENARIOS

TRIALS = {"CLI writes beside a server": 3}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_acknowledged_write_is_lost(tmp_path: Path, name: str) -> None:
    tally = SCENARIOS[name](tmp_path, TRIALS.get(name, 2), random.Random(name))
    assert tally.trials >= 2 and tally.lost == 0, (name, tally)
    if name not in ("two servers on one folder",):
        assert tally.acknowledged > 0 or name == "kill -9 during bulk put", tally
