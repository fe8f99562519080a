"""``edgekv.cli.run``: the one way commands run their async work and report expected errors."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

import edgekv.cli
from edgekv.cli.output import CLIError
from edgekv.cli.run import run
from edgekv.errors import NamespaceNotFound, StorageError


async def _returns(value: object) -> object:
    await asyncio.sleep(0)
    return value


async def _raises(exc: BaseException) -> None:
    await asyncio.sleep(0)
    raise exc


@pytest.mark.parametrize("server", [False, True])
def test_the_result_comes_back_on_either_loop(server: bool) -> None:
    assert run(_returns(42), server=server) == 42


def test_expected_errors_become_the_commands_failure_in_order() -> None:
    errors = {(NamespaceNotFound,): lambda exc: f"kv: {exc}", StorageError: lambda exc: f"store: {exc}"}
    with pytest.raises(CLIError) as caught:
        run(_raises(StorageError("disk full")), errors=errors)
    assert caught.value.message == "store: disk full"
    with pytest.raises(CLIError) as caught:
        run(_raises(StorageError("locked")), errors={Exception: str, StorageError: repr})
    assert caught.value.message == "locked"  # the first class that matches words it


def test_other_errors_propagate_unchanged() -> None:
    with pytest.raises(ValueError, match="mine"):
        run(_raises(ValueError("mine")), errors={StorageError: str})
    with pytest.raises(KeyboardInterrupt):
        run(_raises(KeyboardInterrupt()), errors={StorageError: str})


def test_no_command_starts_an_event_loop_of_its_own() -> None:
    folder = Path(edgekv.cli.__file__).parent
    starting = re.compile(r"asyncio\.run\(|asyncio\.Runner\(|run_until_complete\(")
    found = [path.name for path in folder.glob("*.py")
             if path.name != "run.py" and starting.search(path.read_text("utf-8"))]
    assert found == []
