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
