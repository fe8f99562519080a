"""The runtime: lifecycle, env wiring, and the layering rule (no import of edgekv.runtime)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import edgekv.durable_objects as package
from edgekv.durable_objects import DurableObjectError, DurableObjectRuntime
from edgekv.storage import open_store

from .conftest import DurableObject, MakeRuntime


class EnvReader(DurableObject):
    async def env_value(self) -> Any:
        return self.env.VALUE


class Env:
    VALUE = "from env"


async def test_env_and_lifecycle(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("E", EnvReader, unique_key="w-Env")
    rt.set_env(Env())
    await rt.start()
    await rt.start()  # idempotent
    assert await ns.getByName("x").env_value() == "from env"
    assert rt.bindings == {"E": ns}
    await rt.close()
    await rt.close()
    with pytest.raises(DurableObjectError):
        await rt.start()
    with pytest.raises(DurableObjectError):
        rt.namespace("F", EnvReader, unique_key="w-Other")


async def test_temporary_state_dir_is_removed() -> None:
    store = open_store("memory://")
    async with DurableObjectRuntime(store) as rt:
        state_dir = Path(rt.state_dir)
        ns = rt.namespace("E", EnvReader, unique_key="w-Env", sqlite=True)
        rt.set_env(Env())
        assert await ns.getByName("x").env_value() == "from env"
        assert state_dir.exists()
    assert not state_dir.exists()
    await store.close()


def test_package_does_not_import_the_runtime_layer() -> None:
    for path in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[:2] != ["edgekv", "runtime"], f"{path.name} imports {name}"
                assert not name.startswith(("edgekv.server", "edgekv.cli", "edgekv.kv")), name
