"""load_worker: entrypoint discovery, Cloudflare's rules, clean tracebacks, fresh re-import."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgekv.runtime.loader import (
    MULTIPLE_DEFAULTS,
    WorkerLoadError,
    WorkerSetupError,
    load_worker,
    unload_worker,
)


@pytest.fixture
def src(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "src"
    folder.mkdir()
    yield folder
    unload_worker(folder, remove_path=True)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_finds_default_and_durable_objects(src: Path) -> None:
    main = write(src, "entry.py", """
        from workers import DurableObject, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request): ...

        class Counter(DurableObject): ...

        class _Private(DurableObject): ...

        class Helper: ...
    """)
    worker = load_worker(main)
    assert worker.default is worker.module.Default
    assert worker.on_fetch is None
    assert set(worker.durable_objects) == {"Counter"}
    assert "entry" in worker.module_names
    assert sys.path[0] == str(src.resolve())


def test_dunder_all_limits_exports(src: Path) -> None:
    write(src, "objects.py", """
        from workers import DurableObject

        class A(DurableObject): ...
        class B(DurableObject): ...
    """)
    main = write(src, "entry.py", """
        from objects import A, B
        __all__ = ["A"]
    """)
    worker = load_worker(main)
    assert set(worker.durable_objects) == {"A"}
    assert worker.default is None


def test_legacy_on_fetch(src: Path) -> None:
    main = write(src, "entry.py", "def on_fetch(request):\n    return None\n")
    worker = load_worker(main)
    assert worker.on_fetch is worker.module.on_fetch
    assert worker.default is None


def test_default_and_on_fetch_together_is_an_error(src: Path) -> None:
    main = write(src, "entry.py", """
        from workers import WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request): ...

        async def on_fetch(request, env): ...
    """)
    with pytest.raises(WorkerLoadError) as info:
        load_worker(main)
    assert str(info.value) == f"TypeError: {MULTIPLE_DEFAULTS}"
    assert isinstance(info.value.__cause__, TypeError)


def test_import_error_traceback_shows_user_frames_only(src: Path) -> None:
    write(src, "helpers.py", """
        def explode():
            return 1 / 0
    """)
    main = write(src, "entry.py", """
        import helpers

        VALUE = helpers.explode()
    """)
    with pytest.raises(WorkerLoadError) as info:
        load_worker(main)
    text = info.value.traceback_text
    assert text.startswith("Traceback (most recent call last):")
    assert "entry.py" in text and "helpers.py" in text
    assert "VALUE = helpers.explode()" in text
    assert text.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "importlib" not in text and "edgekv" not in text
    # A failed import leaves nothing half-imported behind.
    assert "helpers" not in sys.modules and "entry" not in sys.modules


def test_syntax_error_keeps_the_caret(src: Path) -> None:
    main = write(src, "entry.py", "def broken(:\n    pass\n")
    with pytest.raises(WorkerLoadError) as info:
        load_worker(main)
    text = info.value.traceback_text
    assert "SyntaxError" in text and "entry.py" in text and "def broken(:" in text


def test_src_prefix_hint(src: Path) -> None:
    write(src, "helpers.py", "X = 1\n")
    main = write(src, "entry.py", "from src.helpers import X\n")
    with pytest.raises(WorkerLoadError) as info:
        load_worker(main)
    text = info.value.traceback_text
    assert "No module named 'src" in text  # 'src' or 'src.helpers', by sys.path
    assert "without the 'src.' prefix" in text and "import helpers" in text


def test_reload_reexecutes_everything(src: Path) -> None:
    write(src, "dep.py", "COUNT = [0]\n")
    main = write(src, "entry.py", "import dep\ndep.COUNT[0] += 1\nSEEN = dep.COUNT[0]\n")
    first = load_worker(main)
    second = load_worker(main)
    assert first.module is not second.module
    assert second.module.SEEN == 1  # dep was imported afresh, not reused


def test_missing_or_wrong_main(tmp_path: Path) -> None:
    with pytest.raises(WorkerSetupError, match="was not found"):
        load_worker(tmp_path / "nope.py")
    js = tmp_path / "index.js"
    js.write_text("export default {}")
    with pytest.raises(WorkerSetupError, match="must be a .py file"):
        load_worker(js)


def test_unload_keeps_other_modules(src: Path) -> None:
    main = write(src, "entry.py", "import json\nimport sibling_for_unload\n")
    write(src, "sibling_for_unload.py", "")
    load_worker(main)
    unload_worker(src, remove_path=True)
    assert "sibling_for_unload" not in sys.modules
    assert "json" in sys.modules
    assert str(src.resolve()) not in sys.path
