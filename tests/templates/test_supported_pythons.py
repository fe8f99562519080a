"""edgekv runs on CPython 3.11 to 3.13: the suite runs on the machine's 3.11, and this test
runs edgekv's KV and Worker runtime tests (``tests/kv``, ``tests/runtime``) again on the
3.13 that ``template_python`` provides, in a pytest of its own, importing edgekv from this
checkout.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.templates.conftest import ROOT

SUBSET = ("tests/kv", "tests/runtime")


def test_kv_and_runtime_suites_pass_on_the_template_python(template_python: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    # -p no:edgekv: the package's pytest plugin is found through src/edgekv.egg-info when
    # present; these two folders do not use it, and loading it twice would be an error.
    done = subprocess.run(
        [str(template_python), "-m", "pytest", *SUBSET, "-q", "-p", "no:cacheprovider",
         "-p", "no:edgekv"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert re.fullmatch(r"=* ?\d+ passed.*", summary), summary
    if os.environ.get("CI"):
        # CI has PostgreSQL and every package these tests need: nothing may be skipped there.
        assert "skipped" not in summary, summary
