"""Stubs: RPC to public methods, fetch pass-through, copies across the boundary."""

from __future__ import annotations

from typing import Any

import pytest

from edgekv.durable_objects import DataCloneError, DurableObjectTypeError

from .conftest import DurableObject, MakeRuntime


class Echo(DurableObject):
    constructed = 0

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        Echo.constructed += 1
        self.kept: list[Any] = []

    async def keep(self, value: Any) -> list[Any]:
        self.kept.append(value)
        return self.kept

    def sync_add(self, a: int, b: int = 0) -> int:
        return a + b

    async def whoami(self) -> dict[str, Any]:
        return {"id": self.ctx.id.toString(), "name": self.ctx.id.name, "env": self.env["X"]}

    async def fail(self) -> None:
        raise ValueError("boom")

    async def fetch(self, request: Any) -> Any:
        return ("response to", request)

    def _private(self) -> int:
        return 1


class NoFetch(DurableObject):
    pass


async def test_rpc_calls_public_methods(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("ECHO", Echo, unique_key="w-Echo")
    rt.set_env({"X": 42})
    stub = ns.getByName("a")
    assert await stub.sync_add(2, b=3) == 5
    assert await stub.whoami() == {"id": ns.idFromName("a").toString(), "name": "a", "env": 42}
    assert stub.name == "a" and stub.id == ns.idFromName("a")
    assert ns.get(ns.idFromName("a")).name == "a"


async def test_stub_creation_constructs_nothing(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("ECHO", Echo, unique_key="w-Echo")
    before = Echo.constructed
    stub = ns.get(ns.newUniqueId())
    assert Echo.constructed == before and rt.live_objects == 0
    await stub.sync_add(1)
    assert Echo.constructed == before + 1 and rt.live_objects == 1


async def test_arguments_and_results_are_copies(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    stub = rt.namespace("ECHO", Echo, unique_key="w-Echo").getByName("a")
    arg = {"list": [1]}
    result = await stub.keep(arg)
    arg["list"].append("caller mutation")
    result.append("result mutation")
    assert await stub.keep(None) == [{"list": [1]}, None]


async def test_uncloneable_arguments_are_rejected(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    stub = rt.namespace("ECHO", Echo, unique_key="w-Echo").getByName("a")
    with pytest.raises(DataCloneError):
        await stub.keep(object())


async def test_stubs_and_ids_pass_by_reference(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("ECHO", Echo, unique_key="w-Echo")
    other = ns.getByName("b")
    kept = await ns.getByName("a").keep([other, other.id])
    assert kept[0][0] is other and kept[0][1] == other.id


async def test_missing_and_private_methods(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    stub = rt.namespace("ECHO", Echo, unique_key="w-Echo").getByName("a")
    with pytest.raises(DurableObjectTypeError) as info:
        await stub.nope()
    assert str(info.value) == 'The RPC receiver does not implement the method "nope".'
    with pytest.raises(DurableObjectTypeError):
        await stub.kept()  # an attribute, not a method
    with pytest.raises(AttributeError):
        stub._private  # noqa: B018


async def test_handler_exceptions_propagate_without_reset(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    stub = rt.namespace("ECHO", Echo, unique_key="w-Echo").getByName("a")
    await stub.keep(1)
    with pytest.raises(ValueError, match="boom"):
        await stub.fail()
    assert await stub.keep(2) == [1, 2]  # same instance


async def test_fetch_passes_request_through(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("ECHO", Echo, unique_key="w-Echo")
    request = object()
    assert await ns.getByName("a").fetch(request) == ("response to", request)
    rt.set_request_factory(lambda url, init: ("built", url, init))
    assert await ns.getByName("a").fetch("https://x/", {"method": "POST"}) == (
        "response to", ("built", "https://x/", {"method": "POST"}))


async def test_fetch_without_handler(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    stub = rt.namespace("NF", NoFetch, unique_key="w-NoFetch").getByName("a")
    with pytest.raises(DurableObjectTypeError, match=r"does not export a fetch\(\) function"):
        await stub.fetch(object())


async def test_namespace_methods_and_aliases(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("ECHO", Echo, unique_key="w-Echo")
    other = rt.namespace("NF", NoFetch, unique_key="w-NoFetch")
    assert ns.id_from_name("a") == ns.idFromName("a")
    unique = ns.new_unique_id()
    assert ns.id_from_string(unique.toString()) == unique
    assert ns.get_by_name("a").id == ns.getByName("a").id
    with pytest.raises(DurableObjectTypeError, match="not valid for this namespace"):
        ns.get(other.idFromName("a"))
    with pytest.raises(TypeError):
        ns.get("0" * 64)  # type: ignore[arg-type]
    assert rt.get_namespace("ECHO") is ns
