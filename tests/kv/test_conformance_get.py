"""The acceptance catalogue (docs/kv-binding.md §9), items 1-22 (get, getWithMetadata, bulk
get) on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from edgekv.errors import KVError, KVSyntaxError, KVTypeError
from edgekv.kv import KVNamespace

from .conftest import TIME_FUTURE

UNKNOWN_TYPE = 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'


def exact(exc_type: type[BaseException], message: str) -> pytest.RaisesExc:
    """Expect ``exc_type`` whose ``str()`` is exactly ``message``."""
    return pytest.raises(exc_type, match="^" + __import__("re").escape(message) + "$")


async def stream_of(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


# 1 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "message"),
    [("", "Key name cannot be empty."), (".", '"." is not allowed as a key name.'),
     ("..", '".." is not allowed as a key name.')],
)
async def test_1_key_names_rejected_by_every_method(kv: KVNamespace, key: str, message: str) -> None:
    with exact(KVTypeError, message):
        await kv.get(key)
    with exact(KVTypeError, message):
        await kv.getWithMetadata(key)
    with exact(KVTypeError, message):
        await kv.put(key, "value")
    with exact(KVTypeError, message):
        await kv.delete(key)


async def test_1_key_length_limit(kv: KVNamespace) -> None:
    long_key = "x" * 513
    for op, call in [("GET", kv.get(long_key)), ("PUT", kv.put(long_key, "v")),
                     ("DELETE", kv.delete(long_key)), ("GET", kv.getWithMetadata(long_key))]:
        with exact(KVError, f"KV {op} failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."):
            await call
    await kv.put("k" * 512, "ok")
    assert await kv.get("k" * 512) == "ok"
    with exact(KVError, "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."):
        await kv.put("€" * 171, "v")
    try:
        await kv.get("€" * 171)
    except KVError as exc:
        assert (exc.op, exc.status) == ("GET", 414)


async def test_1_key_checks_come_in_workerd_order(kv: KVNamespace) -> None:
    with exact(KVTypeError, "Key name cannot be empty."):
        await kv.get("", cacheTtl=1)  # key checks precede the service's cacheTtl check


# 2-5 -----------------------------------------------------------------------------------------


async def test_2_put_then_get(kv: KVNamespace) -> None:
    await kv.put("key", "value")
    assert await kv.get("key") == "value"


async def test_3_binary_round_trip(kv: KVNamespace) -> None:
    data = bytes([0, 1, 2, 127, 128, 254, 255])
    await kv.put("key", data)
    got = await kv.get("key", "arrayBuffer")
    assert isinstance(got, memoryview) and bytes(got) == data
    assert await kv.get("key") == "\x00\x01\x02\x7f\ufffd\ufffd\ufffd"


async def test_3_buffer_types(kv: KVNamespace) -> None:
    await kv.put("ba", bytearray(b"abc"))
    await kv.put("mv", memoryview(b"abcdef")[1:4])
    assert await kv.get("ba") == "abc" and await kv.get("mv") == "bcd"


async def test_4_stream_round_trip(kv: KVNamespace) -> None:
    data = bytes([255, 0, 10, 20, 30, 200])
    await kv.put("key", stream_of(data[:2], data[2:]))
    chunks = [chunk async for chunk in await kv.get("key", "stream")]
    assert b"".join(chunks) == data


async def test_5_missing_key(kv: KVNamespace) -> None:
    assert await kv.get("missing") is None
    assert await kv.getWithMetadata("missing") == {"value": None, "metadata": None, "cacheStatus": None}


# 6-7 -----------------------------------------------------------------------------------------


async def test_6_expiration_ttl_expires(kv: KVNamespace, clock) -> None:
    await kv.put("key", "value", {"expirationTtl": 60})
    assert await kv.get("key") == "value"
    clock.advance(59.999)
    assert await kv.get("key") == "value"
    clock.advance(0.001)
    assert await kv.get("key") is None
    assert await kv.getWithMetadata("key") == {"value": None, "metadata": None, "cacheStatus": None}
    assert (await kv.list())["keys"] == []


@pytest.mark.parametrize(("ttl", "shown"), [("not a number", 0), (10, 10), (29.9, 29), (None, 0)])
async def test_7_cache_ttl_rejected(kv: KVNamespace, ttl: object, shown: int) -> None:
    await kv.put("key", "value")
    for key in ("key", "missing"):
        with exact(KVError, f"KV GET failed: 400 Invalid cache_ttl of {shown}. Cache TTL must be at least 30."):
            await kv.get(key, {"cacheTtl": ttl})
        with exact(KVError, f"KV GET failed: 400 Invalid cache_ttl of {shown}. Cache TTL must be at least 30."):
            await kv.getWithMetadata(key, cacheTtl=ttl)


async def test_7_cache_ttl_accepted(kv: KVNamespace) -> None:
    await kv.put("key", "value")
    assert await kv.get("key", {"cacheTtl": 30}) == "value"
    assert await kv.get("key", cacheTtl=60) == "value"
    assert await kv.get("key", cache_ttl=3600, type="text") == "value"


# 8-11 ----------------------------------------------------------------------------------------


async def test_8_json(kv: KVNamespace) -> None:
    await kv.put("obj", '{"a":1}')
    assert await kv.get("obj", "json") == {"a": 1}
    assert await kv.get("obj", type="json") == {"a": 1}
    assert await kv.get("obj", {"type": "json"}) == {"a": 1}
    for text, expected in [("0", 0), ("false", False), ("null", None), ("[1,2]", [1, 2]), ('"s"', "s")]:
        await kv.put("v", text)
        assert await kv.get("v", "json") == expected
    await kv.put("bad", "hello")
    with exact(KVSyntaxError, "Unexpected token 'h', \"hello\" is not valid JSON"):
        await kv.get("bad", "json")
    await kv.put("empty", "")
    with exact(KVSyntaxError, "Unexpected end of JSON input"):
        await kv.get("empty", "json")


async def test_9_unknown_type(kv: KVNamespace) -> None:
    await kv.put("key", "value")
    for bad in ("banana", "TEXT"):
        with exact(KVTypeError, UNKNOWN_TYPE):
            await kv.get("key", bad)
        assert await kv.get("missing", bad) is None
        assert await kv.getWithMetadata("missing", bad) == {"value": None, "metadata": None, "cacheStatus": None}
    with exact(KVTypeError, UNKNOWN_TYPE):
        await kv.get("key", 42)  # a number becomes the type "42"


async def test_10_get_with_metadata(kv: KVNamespace) -> None:
    await kv.put("key", "value", {"expiration": TIME_FUTURE, "metadata": {"testing": True}})
    result = await kv.getWithMetadata("key")
    assert result == {"value": "value", "metadata": {"testing": True}, "cacheStatus": None}
    assert result.value == "value" and result.metadata == {"testing": True}
    assert (await kv.list())["keys"] == [{"name": "key", "expiration": 1500, "metadata": {"testing": True}}]
    assert await kv.get_with_metadata("key") == result


async def test_11_get_with_metadata_binary_types(kv: KVNamespace) -> None:
    await kv.put("key", b"\x01\x02", metadata="m")
    result = await kv.getWithMetadata("key", "arrayBuffer")
    assert bytes(result["value"]) == b"\x01\x02" and result["metadata"] == "m"
    result = await kv.getWithMetadata("key", {"type": "stream"})
    assert b"".join([c async for c in result["value"]]) == b"\x01\x02"


# 12-22 bulk ------------------------------------------------------------------------------------


async def test_12_bulk_get(kv: KVNamespace) -> None:
    await kv.put("key1", "value1")
    assert await kv.get(["key1", "key2"]) == {"key1": "value1", "key2": None}


async def test_13_bulk_key_count(kv: KVNamespace) -> None:
    keys = [f"k{i}" for i in range(101)]
    with exact(KVError, "KV GET_BULK failed: 400 You can request a maximum of 100 keys"):
        await kv.get(keys)
    assert len(await kv.get(keys[:100])) == 100


async def test_14_bulk_no_keys(kv: KVNamespace) -> None:
    with exact(KVError, "KV GET_BULK failed: 400 You must request a minimum of 1 key"):
        await kv.get([])


@pytest.mark.parametrize("bad", ["invalid", "arrayBuffer", "stream"])
async def test_15_bulk_type(kv: KVNamespace, bad: str) -> None:
    with exact(KVError, f'KV GET_BULK failed: 400 "{bad}" is not a valid type. Use "json" or "text"'):
        await kv.get(["key"], {"type": bad})
    with exact(KVError, f'KV GET_BULK failed: 400 "{bad}" is not a valid type. Use "json" or "text"'):
        await kv.getWithMetadata([], bad)  # the type is checked before the count


async def test_16_bulk_json(kv: KVNamespace) -> None:
    await kv.put("key1", '{"example": "ex"}')
    await kv.put("key2", "example")
    assert await kv.get(["key1"]) == {"key1": '{"example": "ex"}'}
    assert await kv.get(["key1"], "json") == {"key1": {"example": "ex"}}
    with exact(KVError, "KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value"):
        await kv.get(["key1", "key2"], "json")


async def test_17_bulk_with_metadata(kv: KVNamespace) -> None:
    await kv.put("key1", "value1", metadata={"testing": True})
    await kv.put("key2", "value2")
    assert await kv.getWithMetadata(["key1", "key2"]) == {
        "key1": {"value": "value1", "metadata": {"testing": True}},
        "key2": {"value": "value2", "metadata": None},
    }
    await kv.put("key3", "v", metadata=123)
    await kv.put("key4", "v", metadata="example")
    got = await kv.getWithMetadata(["key3", "key4"])
    assert got["key3"]["metadata"] == 123 and got["key4"].metadata == "example"


async def test_18_bulk_with_metadata_missing(kv: KVNamespace) -> None:
    assert await kv.getWithMetadata(["key1"]) == {"key1": None}


async def test_19_bulk_size_limit(kv: KVNamespace) -> None:
    await kv.put("a", "x" * 600)
    await kv.put("b", "y" * 600)
    with exact(KVError, "KV GET_BULK failed: 413 Total size of request exceeds the limit of 0.0009765625MB"):
        await kv.get(["a", "b"])
    assert await kv.get(["a"]) == {"a": "x" * 600}


async def test_19_bulk_size_limit_real(real_kv: KVNamespace) -> None:
    await real_kv.put("a", b"x" * (13 * 1024 * 1024))
    await real_kv.put("b", b"y" * (13 * 1024 * 1024))
    with exact(KVError, "KV GET_BULK failed: 413 Total size of request exceeds the limit of 25MB"):
        await real_kv.get(["a", "b"])


async def test_20_falsy_values_with_metadata(kv: KVNamespace) -> None:
    await kv.put("key1", "", metadata={"testing": True})
    assert await kv.getWithMetadata(["key1"]) == {"key1": {"value": "", "metadata": {"testing": True}}}
    await kv.put("zero", "0", metadata={"m": 1})
    await kv.put("false", "false", metadata={"m": 2})
    assert await kv.getWithMetadata(["zero", "false"], "json") == {
        "zero": {"value": 0, "metadata": {"m": 1}},
        "false": {"value": False, "metadata": {"m": 2}},
    }


async def test_21_bulk_order_duplicates_and_index_keys(kv: KVNamespace) -> None:
    for key in ("bk1", "bk2", "zz", "42", "042", "-1", "4294967294", "4294967295"):
        await kv.put(key, key)
    assert list(await kv.get(["bk2", "zz", "bk1"])) == ["bk2", "zz", "bk1"]
    assert list(await kv.get(["bk1", "bk1", "bk2"])) == ["bk1", "bk2"]
    got = await kv.get(["42", "042", "-1", "4294967294", "4294967295", 7])
    assert got == {"042": "042", "-1": "-1", "4294967295": "4294967295"}


async def test_22_bulk_key_checks_by_the_service(kv: KVNamespace) -> None:
    with exact(KVError, "KV GET_BULK failed: 400 Key names must not be empty"):
        await kv.get(["ok", ""])
    for name in (".", ".."):
        with exact(KVError, f'KV GET_BULK failed: 400 Illegal key name "{name}". Please use a different name.'):
            await kv.get([name])
    with exact(KVError, "KV GET_BULK failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."):
        await kv.get(["a" * 513])
    with exact(KVError, "KV GET_BULK failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30."):
        await kv.get(["a"], {"cacheTtl": 10})


async def test_22_bulk_check_order(kv: KVNamespace) -> None:
    await kv.put("nj", "notjson")
    with exact(KVError, 'KV GET_BULK failed: 400 "banana" is not a valid type. Use "json" or "text"'):
        await kv.get([f"k{i}" for i in range(101)], "banana")
    with exact(KVError, "KV GET_BULK failed: 400 You can request a maximum of 100 keys"):
        await kv.get([""] + [f"k{i}" for i in range(100)])
    with exact(KVError, "KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value"):
        await kv.get(["nj", ""], "json")
    with exact(KVError, "KV GET_BULK failed: 400 Key names must not be empty"):
        await kv.get(["", "nj"], "json")


# argument conversion (messages 7-9) ----------------------------------------------------------


async def test_missing_arguments(kv: KVNamespace) -> None:
    with exact(KVTypeError, "Failed to execute 'get' on 'KvNamespace': parameter 1 is not of type 'string or Array'."):
        await kv.get()
    with exact(KVTypeError, "Failed to execute 'getWithMetadata' on 'KvNamespace': parameter 1 is not of type 'Array or string'."):
        await kv.getWithMetadata()


async def test_int32_range(kv: KVNamespace) -> None:
    message = "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."
    with exact(KVTypeError, message):
        await kv.get("key", cacheTtl=2**31)
    with exact(KVTypeError, message):
        await kv.get("", cacheTtl=-(2**31) - 1)  # conversion precedes the key checks


async def test_keys_are_converted_like_js(kv: KVNamespace) -> None:
    await kv.put(123, "num")
    await kv.put(None, "null")
    await kv.put(True, "bool")
    assert await kv.get("123") == "num" and await kv.get("null") == "null"
    assert await kv.get("true") == "bool"
    await kv.put({"a": 1}, "obj")
    assert await kv.get("[object Object]") == "obj"


async def test_errors_are_typeerror_subclasses(kv: KVNamespace) -> None:
    with pytest.raises(TypeError):
        await kv.get("")
    with pytest.raises(ValueError):
        await kv.put("x", "nope") or await kv.get("x", "json")
