"""python_to_rpc / python_from_rpc / import_from_javascript."""

from __future__ import annotations

import asyncio

import pytest

from edgekv.runtime.errors import UnsupportedJavaScriptModule
from edgekv.runtime.ffi import JsProxy, jsnull
from edgekv.runtime.rpc import JsDict, import_from_javascript, python_from_rpc, python_to_rpc


def test_python_to_rpc_is_identity_with_the_sdk_refusals() -> None:
    value = {"a": [1, "x", None], "b": {"c": b"z"}}
    assert python_to_rpc(value) is value
    for bad in [(1, 2), bytearray(b"x"), {"k": (1,)}]:
        with pytest.raises(TypeError, match="cannot be sent over RPC"):
            python_to_rpc(bad)

    async def coro() -> None: ...

    c = coro()
    with pytest.raises(TypeError, match="Awaitable"):
        python_to_rpc([c])
    c.close()


def test_python_from_rpc_normalises_legacy_values() -> None:
    result = python_from_rpc(JsProxy({"cursor": jsnull, "keys": [{"name": "a"}]}))
    assert isinstance(result, JsDict)
    assert result.cursor is None and result["keys"][0].name == "a"
    assert python_from_rpc(jsnull) is None and python_from_rpc(3) == 3


async def test_import_from_javascript() -> None:
    from edgekv.runtime.context import Context, bound

    module = import_from_javascript("cloudflare:workers")
    ctx = Context()
    with bound({"E": 1}, ctx):
        assert module.env == {"E": 1}
        module.waitUntil(asyncio.sleep(0))
    await ctx.drain()
    with pytest.raises(ImportError, match="cloudflare:sockets") as info:
        import_from_javascript("cloudflare:sockets")
    assert isinstance(info.value, UnsupportedJavaScriptModule)
    assert "cloudflare:workers" in str(info.value)
