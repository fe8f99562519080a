"""The server gives the heap freed by evicted Durable Objects back to the OS
(``edgekv.server.memory``); the Durable Object runtime only reports evictions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.dev import DevServer
from edgekv.server.memory import release_freed_heap

BENCH = Path(__file__).parents[2] / "bench" / "do_evicted_rss.py"


async def test_dev_and_serve_install_the_trim_as_the_eviction_hook(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(
        "from workers import Response, WorkerEntrypoint\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n        return Response('ok')\n")
    (tmp_path / "wrangler.toml").write_text(
        'name = "m"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n')
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    state = config.state_paths()
    runtime = await WorkerRuntime.open(config, store_url=state.kv_url, do_store_url=state.do_url,
                                       state_dir=state.root)
    try:
        assert runtime.durable_objects.on_evicted is None  # a library user's process: untouched
        DevServer(runtime, port=0)
        assert runtime.durable_objects.on_evicted is release_freed_heap
    finally:
        await runtime.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS from /proc, glibc's malloc_trim")
def test_the_trim_returns_what_evicted_objects_freed() -> None:
    """50 SQLite-backed objects used then evicted, in fresh processes: with the trim the
    process keeps a small fraction of what it keeps without (bench/do_evicted_rss.py)."""
    kept = {}
    for case in ("plain", "trim"):
        out = subprocess.run([sys.executable, str(BENCH), "--objects", "50", "--case", case],
                             check=True, capture_output=True, text=True, timeout=120).stdout
        row = json.loads(out)
        kept[case] = row["after"] - row["before"]
    assert kept["plain"] > 8, kept  # the pages stay resident without the trim
    assert kept["trim"] < kept["plain"] / 3, kept
