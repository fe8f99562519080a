"""pyodide.ffi stand-ins."""

from __future__ import annotations

import copy
import pickle

from edgekv.runtime.ffi import JsBuffer, JsNull, JsProxy, create_proxy, jsnull, to_js


def test_to_js_is_identity_and_dicts_stay_dicts() -> None:
    data = {"a": 1}
    assert to_js(data, dict_converter=dict) is data
    assert to_js(b"x") == b"x"
    assert to_js(JsProxy([1])) == [1]


def test_jsnull_is_falsy_and_not_none() -> None:
    assert not jsnull and jsnull is not None
    assert JsNull() is jsnull
    assert str(jsnull) == "null" and repr(jsnull) == "jsnull"
    assert copy.copy(jsnull) is jsnull and pickle.loads(pickle.dumps(jsnull)) is jsnull


def test_jsproxy_to_py_and_attribute_access() -> None:
    proxy = JsProxy({"keys": [1], "list_complete": True})
    assert proxy.to_py() == {"keys": [1], "list_complete": True}
    assert proxy.list_complete is True
    assert JsProxy(JsProxy(5)).to_py() == 5


def test_create_proxy_forwards_and_destroy_is_noop() -> None:
    proxy = create_proxy(lambda x: x + 1)
    assert proxy(1) == 2
    proxy.destroy()
    assert proxy(2) == 3


def test_jsbuffer() -> None:
    buf = JsBuffer(b"abc")
    assert buf.to_bytes() == b"abc" and bytes(buf.to_py()) == b"abc"
    assert buf.byteLength == 3 and buf.to_string() == "abc"


async def test_to_js_bytes_is_a_uint8array_that_response_accepts() -> None:
    # Cloudflare docs, "Python Workers FFI": Response.new(to_js(data).buffer) for binary bodies
    from edgekv.runtime.ffi import JsBuffer, to_js
    from edgekv.runtime.jsglobals import Response as JsResponse
    from edgekv.runtime.web.response import Response

    array = to_js(b"\x00\x01\x02")
    assert isinstance(array, JsBuffer) and array.length == 3 and array.byteLength == 3
    assert array.buffer.to_bytes() == b"\x00\x01\x02"
    assert array.subarray(1).to_bytes() == b"\x01\x02"
    assert await Response(array.buffer).bytes() == b"\x00\x01\x02"
    assert await JsResponse.new(to_js(bytearray(b"ab"))).bytes() == b"ab"
    assert await Response(to_js(memoryview(b"mv"))).bytes() == b"mv"
