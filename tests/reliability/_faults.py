"""Filesystem faults for the attack suite: corrupted files, permissions, a full disk.

Permission faults need an unprivileged process: as root, ``chmod`` does not stop anyone,
so the command runs without the capabilities that bypass file modes (``setpriv``).
A full disk is stood in for by a file-size limit (``RLIMIT_FSIZE``): the write fails with
``EFBIG`` exactly where a full disk fails with ``ENOSPC``.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.reliability._procs import EDGEKV, NAMESPACE_ID

__all__ = ["CORRUPTIONS", "fsize_limit", "one_error_line", "run_as", "seeded_store", "shared_folder"]


def seeded_store(db: Path, count: int = 200) -> dict[str, bytes]:
    """A KV store with ``count`` keys (enough for several pages); returns what it holds."""
    import asyncio

    from edgekv.kv import KVNamespace
    from edgekv.storage.sqlite import SqliteStore

    data = {f"key-{i:04d}": (f"value {i} " * 20).encode() for i in range(count)}

    async def fill() -> None:
        store = SqliteStore(db)
        kv = KVNamespace(store, NAMESPACE_ID)
        await kv.put_records([kv.prepare_put(k, v) for k, v in data.items()])
        await store.close()

    asyncio.run(fill())
    with contextlib.closing(sqlite3.connect(db)) as conn:  # the main file holds the data
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return data


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def _garbage(db: Path) -> None:
    db.write_text("this is not a database\n" * 100)


def _truncated(db: Path) -> None:
    size = db.stat().st_size
    with open(db, "r+b") as handle:
        handle.truncate(size // 3 + 100)


def _bad_magic(db: Path) -> None:
    _overwrite(db, 0, b"SQLite format 9\x00")


def _bad_page_size(db: Path) -> None:
    _overwrite(db, 16, b"\x00\x03")  # 3 is no valid page size


def _scrambled_pages(db: Path) -> None:
    rng = random.Random(12)
    page = 4096
    pages = db.stat().st_size // page
    for number in range(1, pages):
        _overwrite(db, number * page + 8, bytes(rng.randrange(256) for _ in range(64)))


def _zeroed(db: Path) -> None:
    db.write_bytes(b"\x00" * db.stat().st_size)


def _garbage_wal(db: Path) -> None:
    db.with_name(db.name + "-wal").write_bytes(os.urandom(20000))


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "garbage": _garbage,
    "truncated": _truncated,
    "bad-magic": _bad_magic,
    "bad-page-size": _bad_page_size,
    "scrambled-pages": _scrambled_pages,
    "zeroed": _zeroed,
    "garbage-wal": _garbage_wal,
}


def fsize_limit(limit_bytes: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


def run_as(cwd: Path, *args: str, preexec: Callable[[], None] | None = None,
           unprivileged: bool = False, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``edgekv``; ``unprivileged`` makes file modes bind even when we are root."""
    steps: list[Callable[[], None]] = []
    if preexec is not None:
        steps.append(preexec)
    prefix: list[str] = []
    if unprivileged and os.geteuid() == 0:
        # root ignores file modes through these capabilities; without them the owner's mode
        # bits apply to root as to anyone
        prefix = ["setpriv", "--inh-caps=-all",
                  "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [*prefix, *EDGEKV, *args], cwd=cwd, input=stdin, capture_output=True, env=env, timeout=60,
        check=False, preexec_fn=(lambda: [step() for step in steps]) if steps else None,
    )
    return _decoded(done)


def _decoded(done: subprocess.CompletedProcess[bytes]) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(done.args, done.returncode,
                                       done.stdout.decode("utf-8", "replace"),
                                       done.stderr.decode("utf-8", "replace"))


@contextmanager
def shared_folder() -> Iterator[Path]:
    """A folder every user can enter (for commands run as ``nobody``)."""
    path = Path(tempfile.mkdtemp(prefix="edgekv-fault-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        for child in [path, *path.rglob("*")]:
            if not child.is_symlink():
                child.chmod(0o777 if child.is_dir() else 0o666)
        shutil.rmtree(path, ignore_errors=True)


def one_error_line(stderr: str) -> str:
    """The stderr of a failed command, which must be exactly one ``✘ [ERROR]`` line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("✘ [ERROR] "), stderr
    return lines[0]
