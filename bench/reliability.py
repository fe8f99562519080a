"""The attack suite of tests/reliability with large counts: trials, acknowledged writes and
writes lost, per attack.

Run: ``.venv/bin/python bench/reliability.py [--trials 10] [--fuzz-examples 2000] [--only NAME]``

The kill -9 scenarios are those of ``tests/reliability/scenarios.py`` (every process
stopped by its pid). The fuzzers (bulk files, configs, storage values) and the fault tests
(filesystem faults, a locked object file, malformed HTTP) run through pytest with
``EDGEKV_FUZZ_EXAMPLES`` examples. A run passes when no acknowledged write is lost and
every pytest attack passes.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: its http.py would shadow the standard library's http

from tests.reliability.scenarios import SCENARIOS, Tally

PYTEST_ATTACKS = [
    "tests/reliability/test_input_fuzz.py",
    "tests/reliability/test_fs_faults.py",
    "tests/reliability/test_locked_object.py",
    "tests/reliability/test_http_abuse.py",
    "tests/reliability/test_bulk_lock.py",
    "tests/reliability/test_state_lock.py",
    "tests/reliability/test_storage_values.py",
    "tests/reliability/test_reload_watcher.py",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="trials per kill -9 scenario")
    parser.add_argument("--fuzz-examples", type=int, default=2000)
    parser.add_argument("--only", default=None, help="run only the scenarios whose name contains this")
    parser.add_argument("--skip-pytest", action="store_true")
    args = parser.parse_args()
    total = Tally()
    print(f"{'attack':<34} {'trials':>6} {'acknowledged':>13} {'lost':>5} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, scenario in SCENARIOS.items():
            if args.only and args.only not in name:
                continue
            started = time.monotonic()
            tally = scenario(Path(tmp) / name.replace(" ", "-"), args.trials, random.Random(name))
            total.add(tally)
            print(f"{name:<34} {tally.trials:>6} {tally.acknowledged:>13} {tally.lost:>5} "
                  f"{time.monotonic() - started:>8.1f}", flush=True)
            for note in tally.notes[:5]:
                print(f"    {note}")
    print(f"{'total':<34} {total.trials:>6} {total.acknowledged:>13} {total.lost:>5}")
    failed = total.lost != 0
    if not args.skip_pytest:
        import pytest

        os.environ["EDGEKV_FUZZ_EXAMPLES"] = str(args.fuzz_examples)
        started = time.monotonic()
        code = pytest.main(["-q", "-p", "no:cacheprovider", *[str(REPO / p) for p in PYTEST_ATTACKS]])
        print(f"fault, fuzz ({args.fuzz_examples} examples each) and HTTP attacks: "
              f"{'passed' if code == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
        failed = failed or code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
