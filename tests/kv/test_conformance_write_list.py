"""The acceptance catalogue (docs/kv-binding.md §9), items 23-47 (put, delete, list) on every
backend."""

from __future__ import annotations

import pytest

from edgekv.errors import KVError, KVTypeError
from edgekv.kv import KVNamespace
from edgekv.kv.cursor import encode_cursor

from .conftest import NOW
from .test_conformance_get import exact, stream_of

BAD_VALUE = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
REAL_LIMIT = 26_214_400


# put: 23-32 ----------------------------------------------------------------------------------


async def test_23_empty_value(kv: KVNamespace) -> None:
    await kv.put("key", "")
    assert await kv.get("key") == ""


async def test_24_overwrite_replaces_everything(kv: KVNamespace) -> None:
    await kv.put("key", "v1", expirationTtl=120, metadata={"a": 1})
    await kv.put("key", "v2", metadata={"b": 2})
    assert await kv.getWithMetadata("key") == {"value": "v2", "metadata": {"b": 2}, "cacheStatus": None}
    await kv.put("key", "v3")
    assert await kv.getWithMetadata("key") == {"value": "v3", "metadata": None, "cacheStatus": None}
    assert (await kv.list())["keys"] == [{"name": "key"}]


async def test_25_case_sensitive(kv: KVNamespace) -> None:
    await kv.put("key", "lower")
    await kv.put("KEY", "upper")
    assert (await kv.get("key"), await kv.get("KEY")) == ("lower", "upper")


@pytest.mark.parametrize(
    ("ttl", "message"),
    [("nan", "Invalid expiration_ttl of 0. Please specify integer greater than 0."),
     (0, "Invalid expiration_ttl of 0. Please specify integer greater than 0."),
     (None, "Invalid expiration_ttl of 0. Please specify integer greater than 0."),
     (-1, "Invalid expiration_ttl of -1. Please specify integer greater than 0."),
     (30, "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
     (1, "Invalid expiration_ttl of 1. Expiration TTL must be at least 60."),
     (59, "Invalid expiration_ttl of 59. Expiration TTL must be at least 60."),
     (59.9, "Invalid expiration_ttl of 59. Expiration TTL must be at least 60.")],
)
async def test_26_expiration_ttl_rejected(kv: KVNamespace, ttl: object, message: str) -> None:
    with exact(KVError, f"KV PUT failed: 400 {message}"):
        await kv.put("key", "value", {"expirationTtl": ttl})
    assert await kv.get("key") is None


@pytest.mark.parametrize(("ttl", "stored"), [(60, NOW + 60), (60.9, NOW + 60), ("120", NOW + 120)])
async def test_26_expiration_ttl_accepted(kv: KVNamespace, ttl: object, stored: int) -> None:
    await kv.put("key", "value", expiration_ttl=ttl)
    assert (await kv.list())["keys"] == [{"name": "key", "expiration": stored}]


async def test_27_expiration(kv: KVNamespace) -> None:
    greater = "Please specify integer greater than the current number of seconds since the UNIX epoch."
    with exact(KVError, f"KV PUT failed: 400 Invalid expiration of 0. {greater}"):
        await kv.put("key", "value", {"expiration": "nan"})
    with exact(KVError, f"KV PUT failed: 400 Invalid expiration of {NOW}. {greater}"):
        await kv.put("key", "value", {"expiration": NOW})
    with exact(KVError, f"KV PUT failed: 400 Invalid expiration of {NOW + 30}. Expiration times must be at least 60 seconds in the future."):
        await kv.put("key", "value", {"expiration": NOW + 30})
    with exact(KVError, f"KV PUT failed: 400 Invalid expiration of {NOW + 59}. Expiration times must be at least 60 seconds in the future."):
        await kv.put("key", "value", expiration=NOW + 59)
    await kv.put("key", "value", expiration=NOW + 60)
    await kv.put("key2", "value", expiration=NOW + 3600.7)
    assert (await kv.list())["keys"] == [
        {"name": "key", "expiration": NOW + 60}, {"name": "key2", "expiration": NOW + 3600}]
    await kv.put("max", "v", expiration=2147483647)
    with exact(KVTypeError, "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."):
        await kv.put("max", "v", expiration=2147483648)


async def test_28_value_size_testing_limit(kv: KVNamespace) -> None:
    with exact(KVError, "KV PUT failed: 413 Value length of 1025 exceeds limit of 1024."):
        await kv.put("key", "x" * 1025)
    await kv.put("key", "x" * 1024)
    with exact(KVError, "KV PUT failed: 413 Value length of 1026 exceeds limit of 1024."):
        await kv.put("key", stream_of(b"x" * 1000, b"y" * 26))
    assert await kv.get("key") == "x" * 1024


async def test_28_value_size_real_limit(real_kv: KVNamespace) -> None:
    big = b"v" * REAL_LIMIT
    await real_kv.put("bytes", big)
    assert bytes(await real_kv.get("bytes", "arrayBuffer")) == big
    await real_kv.put("text", "t" * REAL_LIMIT)
    await real_kv.put("stream", stream_of(big[: REAL_LIMIT // 2], big[REAL_LIMIT // 2 :]))
    message = f"KV PUT failed: 413 Value length of {REAL_LIMIT + 1} exceeds limit of {REAL_LIMIT}."
    for value in (big + b"!", "t" * (REAL_LIMIT + 1), stream_of(big, b"!")):
        with exact(KVError, message):
            await real_kv.put("too-big", value)
    assert await real_kv.get("too-big") is None


async def test_29_metadata_size(kv: KVNamespace) -> None:
    with exact(KVError, "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024."):
        await kv.put("key", "v", metadata={"key": "x" * 1015})
    await kv.put("key", "v", metadata={"key": "x" * 1014})
    with exact(KVError, "KV PUT failed: 413 Metadata length of 1026 exceeds limit of 1024."):
        await kv.put("key", "v", metadata="é" * 512)
    await kv.put("key", "v", metadata="é" * 511)
    assert (await kv.getWithMetadata("key"))["metadata"] == "é" * 511


async def test_29_metadata_serialisation(kv: KVNamespace) -> None:
    with exact(KVTypeError, "Do not know how to serialize a BigInt"):
        await kv.put("key", "v", metadata={"n": 2**60})
    await kv.put("key", "v", metadata={"f": 1.0, "nan": float("nan"), "t": (1, 2)})
    assert (await kv.getWithMetadata("key"))["metadata"] == {"f": 1, "nan": None, "t": [1, 2]}


async def test_30_both_expiration_options(kv: KVNamespace) -> None:
    await kv.put("key", "v", {"expiration": 1, "expirationTtl": 120})
    assert (await kv.list())["keys"] == [{"name": "key", "expiration": NOW + 120}]
    with exact(KVError, "KV PUT failed: 400 Invalid expiration_ttl of 5. Expiration TTL must be at least 60."):
        await kv.put("key", "v", {"expiration": NOW + 3600, "expirationTtl": 5})


async def test_31_value_coercions(kv: KVNamespace) -> None:
    for value, stored in [(42, "42"), (True, "true"), (None, "null"), (1.5, "1.5"), (2.0, "2")]:
        await kv.put("key", value)
        assert await kv.get("key") == stored
    for bad in ({"a": 1}, [1, 2], object()):
        with exact(KVTypeError, BAD_VALUE):
            await kv.put("key", bad)


@pytest.mark.parametrize("metadata", [0, False, "", "s", [1], {"nested": {"deep": [1, {"x": None}]}}])
async def test_32_falsy_and_nested_metadata(kv: KVNamespace, metadata: object) -> None:
    await kv.put("key", "v", metadata=metadata)
    assert (await kv.getWithMetadata("key"))["metadata"] == metadata
    assert (await kv.list())["keys"] == [{"name": "key", "metadata": metadata}]


async def test_32_null_metadata_means_none(kv: KVNamespace) -> None:
    await kv.put("key", "v", {"metadata": None})
    assert (await kv.getWithMetadata("key"))["metadata"] is None
    assert (await kv.list())["keys"] == [{"name": "key"}]


async def test_put_argument_errors(kv: KVNamespace) -> None:
    prefix = "Failed to execute 'put' on 'KvNamespace': "
    with exact(KVTypeError, prefix + "parameter 1 is not of type 'string'."):
        await kv.put()
    with exact(KVTypeError, prefix + "parameter 2 is not of type 'string or JsObject'."):
        await kv.put("key")
    with exact(KVTypeError, prefix + "parameter 3 is not of type 'PutOptions'."):
        await kv.put("key", "v", 5)


async def test_put_check_order(kv: KVNamespace) -> None:
    with exact(KVTypeError, "Key name cannot be empty."):  # key before value type
        await kv.put("", {"a": 1})
    with exact(KVTypeError, BAD_VALUE):  # value type before the service's checks
        await kv.put("k", {"a": 1}, expirationTtl=1)
    with exact(KVError, "KV PUT failed: 400 Invalid expiration_ttl of 1. Expiration TTL must be at least 60."):
        await kv.put("k", "x" * 2000, expirationTtl=1, metadata="m" * 2000)
    with exact(KVError, "KV PUT failed: 413 Metadata length of 2002 exceeds limit of 1024."):
        await kv.put("k", "x" * 2000, metadata="m" * 2000)


async def test_put_calling_conventions(kv: KVNamespace) -> None:
    await kv.put("a", "1", expirationTtl=60)
    await kv.put("b", "2", {"expirationTtl": 60})
    await kv.put("c", "3", metadata={"m": 1})
    await kv.put("d", "4", {"metadata": {"m": 2}})
    await kv.put("e", "", None)
    keys = (await kv.list())["keys"]
    assert keys == [{"name": "a", "expiration": NOW + 60}, {"name": "b", "expiration": NOW + 60},
                    {"name": "c", "metadata": {"m": 1}}, {"name": "d", "metadata": {"m": 2}},
                    {"name": "e"}]
    assert await kv.get("e") == ""


async def test_lone_surrogates(kv: KVNamespace) -> None:
    await kv.put("v", "a\ud800b")
    assert await kv.get("v") == "a\ufffd\ufffd\ufffdb"
    with exact(KVError, "KV PUT failed: 400 Could not URL-decode key name"):
        await kv.put("a\ud800", "v")


# delete: 33 ----------------------------------------------------------------------------------


async def test_33_delete(kv: KVNamespace) -> None:
    with exact(KVError, "KV DELETE failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."):
        await kv.delete("x" * 513)
    with exact(KVTypeError, "Failed to execute 'delete' on 'KvNamespace': parameter 1 is not of type 'string'."):
        await kv.delete()
    await kv.put("key", "value", metadata=1)
    assert await kv.delete("key") is None
    assert await kv.get("key") is None
    assert await kv.getWithMetadata("key") == {"value": None, "metadata": None, "cacheStatus": None}
    assert (await kv.list())["keys"] == []
    await kv.delete("missing", "extra", "arguments")


# list: 34-47 ---------------------------------------------------------------------------------


async def put_all(kv: KVNamespace, *keys: str) -> None:
    for key in keys:
        await kv.put(key, "value")


def names(result: dict) -> list[str]:
    return [k["name"] for k in result["keys"]]


async def test_34_sorted_and_complete(kv: KVNamespace) -> None:
    await put_all(kv, "key3", "key1", "key2")
    result = await kv.list()
    assert result == {"keys": [{"name": "key1"}, {"name": "key2"}, {"name": "key3"}],
                      "list_complete": True, "cacheStatus": None}
    assert list(result) == ["keys", "list_complete", "cacheStatus"] and "cursor" not in result
    assert result.list_complete is True and result.get("cursor") is None


async def test_35_36_37_prefix(kv: KVNamespace) -> None:
    await put_all(kv, "section1key1", "section1key2", "section2key1", "KEY1", "KEY2", "key1",
                  "key\\_%1", "key\\_%2", "key\\_%3", "key\\a", "key\\bbb")
    assert names(await kv.list({"prefix": "section1"})) == ["section1key1", "section1key2"]
    assert names(await kv.list(prefix="KEY")) == ["KEY1", "KEY2"]
    assert names(await kv.list(prefix="key\\_%")) == ["key\\_%1", "key\\_%2", "key\\_%3"]
    assert names(await kv.list(prefix=None)) == names(await kv.list(prefix="")) == names(await kv.list())


async def test_38_expiration_and_metadata_listed(kv: KVNamespace) -> None:
    await kv.put("a", "v", expiration=1500)
    await kv.put("b", "v", expiration=1600, metadata={"m": True})
    await kv.put("c", "v", expiration=1700)
    await kv.put("d", "v", metadata="only")
    assert (await kv.list())["keys"] == [
        {"name": "a", "expiration": 1500}, {"name": "b", "expiration": 1600, "metadata": {"m": True}},
        {"name": "c", "expiration": 1700}, {"name": "d", "metadata": "only"}]


async def test_39_empty(kv: KVNamespace) -> None:
    assert await kv.list() == {"keys": [], "list_complete": True, "cacheStatus": None}
    await put_all(kv, "a")
    assert await kv.list(prefix="zz") == {"keys": [], "list_complete": True, "cacheStatus": None}


async def test_40_pagination(kv: KVNamespace) -> None:
    await put_all(kv, "key1", "key2", "key3", "other")
    page1 = await kv.list({"limit": 2})
    assert names(page1) == ["key1", "key2"] and page1["list_complete"] is False
    assert isinstance(page1["cursor"], str) and list(page1) == ["keys", "list_complete", "cursor", "cacheStatus"]
    page2 = await kv.list({"limit": 2, "cursor": page1["cursor"]})
    assert names(page2) == ["key3", "other"] and page2["list_complete"] is True
    p1 = await kv.list(prefix="key", limit=2)
    p2 = await kv.list(prefix="key", limit=2, cursor=p1.cursor)
    assert names(p2) == ["key3"] and p2.list_complete and "cursor" not in p2
    assert names(await kv.list(cursor="")) == names(await kv.list(cursor=None))


async def test_41_prefix_length(kv: KVNamespace) -> None:
    assert names(await kv.list(prefix="p" * 512)) == []
    with exact(KVError, "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."):
        await kv.list(prefix="p" * 513)


async def test_42_variable_limit(kv: KVNamespace) -> None:
    await put_all(kv, "key1", "key2", "key3")
    page1 = await kv.list(limit=1)
    page2 = await kv.list(limit=2, cursor=page1["cursor"])
    assert names(page2) == ["key2", "key3"] and page2["list_complete"]


async def test_43_inserted_while_paginating(kv: KVNamespace) -> None:
    await put_all(kv, "key1", "key3", "key5")
    page1 = await kv.list(limit=2)
    assert names(page1) == ["key1", "key3"]
    await put_all(kv, "key2", "key4")
    page2 = await kv.list(cursor=page1["cursor"])
    assert names(page2) == ["key4", "key5"]


async def test_44_ignores_expired(kv: KVNamespace, clock) -> None:
    await kv.put("key1", "v", expirationTtl=60)
    await kv.put("key2", "v", expirationTtl=120)
    await kv.put("key3", "v", expirationTtl=180)
    clock.advance(130)
    assert await kv.list() == {"keys": [{"name": "key3", "expiration": 1180}],
                               "list_complete": True, "cacheStatus": None}


async def test_45_utf8_byte_order(kv: KVNamespace) -> None:
    ordered = ["\u0000", "!", ", ", "B", "a", "a/b", "aa", "é", "\uffff", "😀"]
    for key in reversed(ordered):
        await kv.put(key, "v")
    assert names(await kv.list()) == ordered
    assert encode_cursor("L:, ") == "TDosIA=="


async def test_46_limit_conversions(kv: KVNamespace) -> None:
    await put_all(kv, *[f"k{i:02d}" for i in range(12)])
    with exact(KVError, "KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000."):
        await kv.list(limit=1001)
    for default in (0, -1, "abc", None):
        assert len((await kv.list(limit=default))["keys"]) == 12
    assert len((await kv.list(limit=2.7))["keys"]) == 2
    assert len((await kv.list(limit="5"))["keys"]) == 5
    assert len((await kv.list(limit=1000))["keys"]) == 12
    with exact(KVTypeError, "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."):
        await kv.list(limit=2**31)


async def test_47_exact_pages(kv: KVNamespace, store) -> None:
    from edgekv.storage import Record

    await put_all(kv, "a", "b")
    result = await kv.list(limit=2)
    assert result["list_complete"] is True and "cursor" not in result
    await store.write_batch("ns", [Record(f"key{i:04d}", b"v") for i in range(1005)])
    page1 = await kv.list(prefix="key")
    assert len(page1["keys"]) == 1000 and page1["list_complete"] is False
    assert page1["cursor"] == encode_cursor("key0999")
    page2 = await kv.list(prefix="key", cursor=page1["cursor"])
    assert names(page2) == [f"key{i:04d}" for i in range(1000, 1005)] and "cursor" not in page2


async def test_list_argument_errors(kv: KVNamespace) -> None:
    message = "Failed to execute 'list' on 'KvNamespace': parameter 1 is not of type 'ListOptions'."
    for bad in (5, "prefix", True):
        with exact(KVTypeError, message):
            await kv.list(bad)
    assert (await kv.list(None))["list_complete"] is True


async def test_malformed_cursor_is_accepted(kv: KVNamespace) -> None:
    await put_all(kv, "a", "b")
    result = await kv.list(cursor="!!!notbase64")
    assert result["list_complete"] is True


async def test_binding_object_protocol(kv: KVNamespace) -> None:
    assert kv
    with pytest.raises(TypeError):
        iter(kv)
    with pytest.raises(TypeError):
        len(kv)
