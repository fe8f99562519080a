"""Which changes reload the Worker."""

from __future__ import annotations

from pathlib import Path

from watchfiles import Change

from edgekv.server.watch import WorkerFilter


def test_filter(tmp_path: Path) -> None:
    state = tmp_path / "elsewhere-state"
    accept = WorkerFilter(ignore=(state,))
    p = str(tmp_path)
    assert accept(Change.modified, f"{p}/src/entry.py")
    assert accept(Change.added, f"{p}/src/new_module.py")
    assert accept(Change.modified, f"{p}/wrangler.toml")
    assert accept(Change.modified, f"{p}/wrangler.jsonc")
    assert accept(Change.modified, f"{p}/.dev.vars")
    assert accept(Change.modified, f"{p}/.dev.vars.staging")
    assert accept(Change.modified, f"{p}/.env")
    assert accept(Change.modified, f"{p}/pyproject.toml")  # dependencies resolve again
    assert not accept(Change.modified, f"{p}/public/index.html")  # assets: read per request
    assert not accept(Change.modified, f"{p}/README.md")
    assert not accept(Change.modified, f"{p}/.edgekv/kv.sqlite3")
    assert not accept(Change.modified, f"{p}/.edgekv/do/x.py")
    assert not accept(Change.modified, f"{p}/src/__pycache__/entry.cpython-312.pyc")
    assert not accept(Change.modified, f"{p}/python_modules/pkg/mod.py")
    assert not accept(Change.modified, f"{p}/.venv/lib/site.py")
    assert not accept(Change.modified, f"{state}/whatever.py")
