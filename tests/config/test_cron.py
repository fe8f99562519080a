"""Cron Trigger expressions (edgekv.config.cron) and their validation in wrangler configs.

Expressions are those of Cloudflare's Cron Triggers docs ("Supported cron expressions" and
its examples: ``*/30 * * * *``, ``0 17 * * sun``, ``59 23 LW * *``, ``0 18 * * 6L``,
``0 9 * * 2#1``), with 1 = Sunday in the day-of-week field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edgekv.config import load_config
from edgekv.config.cron import parse_cron
from edgekv.errors import ConfigError

NOW = dt.datetime(2026, 12, 3, 9, 30, 20, tzinfo=dt.UTC)  # a Thursday


@pytest.mark.parametrize(("expression", "expected"), [
    ("*/1 * * * *", dt.datetime(2026, 12, 3, 9, 31, tzinfo=dt.UTC)),
    ("*/30 * * * *", dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)),
    ("0 17 * * sun", dt.datetime(2026, 12, 6, 17, 0, tzinfo=dt.UTC)),
    ("0 17 * * 1", dt.datetime(2026, 12, 6, 17, 0, tzinfo=dt.UTC)),  # 1 = Sunday
    ("59 23 LW * *", dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC)),
    ("0 18 * * 6L", dt.datetime(2026, 12, 25, 18, 0, tzinfo=dt.UTC)),  # last Friday
    ("0 9 * * 2#1", dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)),  # first Monday
    ("*/15 9-17 * * MON-FRI", dt.datetime(2026, 12, 3, 9, 45, tzinfo=dt.UTC)),
    ("0 0 1 JAN *", dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC)),
    ("0 12 15W * *", dt.datetime(2026, 12, 15, 12, 0, tzinfo=dt.UTC)),
    ("0 0 L * *", dt.datetime(2026, 12, 31, 0, 0, tzinfo=dt.UTC)),
])
def test_next_fire_time(expression: str, expected: dt.datetime) -> None:
    assert parse_cron(expression).next_after(NOW) == expected


@pytest.mark.parametrize("expression", ["bad", "* * * *", "61 * * * *", "* * * * 9",
                                        "*/0 * * * *", "5-1 * * * *"])
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(ValueError):
        parse_cron(expression)


def test_config_reads_triggers_and_reports_bad_crons(tmp_path: Path) -> None:
    # python-workers-examples 08-cron: "triggers": {"crons": ["*/1 * * * *"]}
    (tmp_path / "wrangler.jsonc").write_text(
        '{"name": "c", "main": "src/entry.py", "compatibility_flags": ["python_workers"],'
        ' "triggers": {"crons": ["*/1 * * * *" /* every minute */]}}')
    assert load_config(tmp_path).crons == ("*/1 * * * *",)
    (tmp_path / "wrangler.jsonc").write_text(
        '{"name": "c", "main": "src/entry.py", "compatibility_flags": ["python_workers"],'
        ' "triggers": {"crons": ["every minute"]}}')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert '"triggers.crons[0]" is not a valid cron expression ("every minute")' in str(
        info.value)


def test_triggers_inherit_into_environments(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "c"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n'
        '[triggers]\ncrons = ["0 * * * *"]\n[env.staging]\n')
    assert load_config(tmp_path, env="staging").crons == ("0 * * * *",)
