"""The storage engine contract (storage/base.py), run against every backend.

Each test receives a fresh store from the ``make_store``/``store`` factory fixtures, which
are parametrized over ``memory://`` and ``sqlite:///<tmp_path>/...``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from edgekv.clock import FakeClock
from edgekv.errors import NamespaceNotFound, NamespaceTitleExists, StorageError
from edgekv.storage import LOCAL_ACCOUNT_ID, Record, Store, open_store

StoreFactory = Callable[..., Awaitable[Store]]

S = "space-1"

# Ascending by UTF-8 bytes (= code points), as Cloudflare documents (docs/kv-binding.md §4).
ORDERED_KEYS = ["\u0000", "!", ", ", "B", "a", "a/b", "aa", "\u00e9", "\uffff", "\U0001f600"]


async def fill(store: Store, keys: list[str], space: str = S) -> None:
    for key in keys:
        await store.put(space, key, key.encode("utf-8"))


def names(records: list[Record]) -> list[str]:
    return [r.key for r in records]


# -- get / put / delete / get_many ------------------------------------------------------------


async def test_get_missing(store: Store) -> None:
    assert await store.get(S, "nope") is None
    assert await store.get("never-used-space", "nope") is None


async def test_put_get_round_trip(store: Store) -> None:
    await store.put(S, "k", b"v", expiration=5000, metadata='{"a":1}')
    assert await store.get(S, "k") == Record("k", b"v", 5000, '{"a":1}')


async def test_put_accepts_any_buffer(store: Store) -> None:
    await store.put(S, "ba", bytearray(b"xy"))
    await store.put(S, "mv", memoryview(b"zw"))
    assert (await store.get(S, "ba")).value == b"xy"  # type: ignore[union-attr]
    assert (await store.get(S, "mv")).value == b"zw"  # type: ignore[union-attr]


async def test_empty_value_and_binary_value(store: Store) -> None:
    await store.put(S, "empty", b"")
    blob = bytes(range(256)) * 4
    await store.put(S, "bin", blob)
    assert (await store.get(S, "empty")) == Record("empty", b"")
    assert (await store.get(S, "bin")).value == blob  # type: ignore[union-attr]


async def test_put_replaces_value_expiration_and_metadata(store: Store) -> None:
    await store.put(S, "k", b"one", expiration=5000, metadata='"m"')
    await store.put(S, "k", b"two")
    assert await store.get(S, "k") == Record("k", b"two", None, None)


async def test_delete(store: Store) -> None:
    await store.put(S, "k", b"v")
    assert await store.delete(S, "k") is True
    assert await store.get(S, "k") is None
    assert await store.delete(S, "k") is False
    assert await store.delete("never-used-space", "k") is False


async def test_get_many(store: Store) -> None:
    await fill(store, ["a", "b", "c"])
    found = await store.get_many(S, ["c", "a", "missing", "a"])
    assert found == {"a": Record("a", b"a"), "c": Record("c", b"c")}
    assert await store.get_many(S, []) == {}
    assert await store.get_many("never-used-space", ["a"]) == {}


async def test_odd_keys_round_trip(store: Store) -> None:
    keys = [*ORDERED_KEYS, " ", "\n", "%_\\", "..."]
    for key in keys:
        await store.put(S, key, key.encode("utf-8"))
    for key in keys:
        assert (await store.get(S, key)) == Record(key, key.encode("utf-8"))
    assert sorted(names(await store.scan(S))) == sorted(keys)


# -- write_batch ---------------------------------------------------------------------------------


async def test_write_batch_applies_deletes_then_puts(store: Store) -> None:
    await fill(store, ["a", "b", "c"])
    await store.write_batch(
        S,
        puts=[Record("b", b"B2", 9000, '"m"'), Record("d", b"D")],
        deletes=["a", "b", "zzz"],
    )
    assert names(await store.scan(S)) == ["b", "c", "d"]
    assert await store.get(S, "b") == Record("b", b"B2", 9000, '"m"')


async def test_write_batch_accepts_generators(store: Store) -> None:
    await store.write_batch(S, puts=(Record(f"k{i}", b"v") for i in range(200)))
    assert len(await store.scan(S)) == 200


async def test_write_batch_empty_is_a_no_op(store: Store) -> None:
    await store.write_batch(S)
    assert await store.scan(S) == []


@pytest.mark.parametrize("size", [3, 200])  # inline and thread paths of the SQLite backend
async def test_failing_write_batch_stores_nothing(store: Store, size: int) -> None:
    await fill(store, ["keep-1", "keep-2"])
    bad = Record("bad", object())  # type: ignore[arg-type]  # not bytes: the driver raises
    puts = [Record(f"new-{i:03}", b"v") for i in range(size)]
    puts.insert(size // 2, bad)
    with pytest.raises((StorageError, TypeError)):
        await store.write_batch(S, puts=puts, deletes=["keep-1"])
    assert names(await store.scan(S)) == ["keep-1", "keep-2"]
    assert await store.get(S, "new-000") is None
    # The store is still usable, in the same space and in a brand-new one.
    await store.write_batch(S, puts=[Record("after", b"ok")])
    assert (await store.get(S, "after")) == Record("after", b"ok")


async def test_failing_write_batch_in_new_space_leaves_space_usable(store: Store) -> None:
    with pytest.raises((StorageError, TypeError)):
        await store.write_batch("fresh", puts=[Record("a", b"1"), Record("b", object())])  # type: ignore[arg-type]
    assert await store.scan("fresh") == []
    await store.put("fresh", "a", b"1")
    assert await store.get("fresh", "a") == Record("a", b"1")


# -- scan ---------------------------------------------------------------------------------------


async def test_scan_orders_by_utf8_bytes(store: Store) -> None:
    for key in reversed(ORDERED_KEYS):
        await store.put(S, key, b"x")
    assert names(await store.scan(S)) == ORDERED_KEYS
    assert sorted(ORDERED_KEYS, key=lambda k: k.encode("utf-8")) == ORDERED_KEYS
    assert names(await store.scan(S, reverse=True)) == ORDERED_KEYS[::-1]


async def test_scan_values_flag(store: Store) -> None:
    await store.put(S, "k", b"v", expiration=5000, metadata="1")
    assert await store.scan(S) == [Record("k", None, 5000, "1")]
    assert await store.scan(S, values=True) == [Record("k", b"v", 5000, "1")]


async def test_scan_prefix(store: Store) -> None:
    await fill(store, ["a", "a/b", "a0", "aa", "ab", "b", "\u00e9", "\u00e9t\u00e9", "\u00ea"])
    assert names(await store.scan(S, prefix="a")) == ["a", "a/b", "a0", "aa", "ab"]
    assert names(await store.scan(S, prefix="a/")) == ["a/b"]
    assert names(await store.scan(S, prefix="aa")) == ["aa"]
    assert names(await store.scan(S, prefix="\u00e9")) == ["\u00e9", "\u00e9t\u00e9"]
    assert names(await store.scan(S, prefix="zz")) == []
    assert names(await store.scan(S, prefix="a", reverse=True)) == ["ab", "aa", "a0", "a/b", "a"]


async def test_scan_prefix_is_literal(store: Store) -> None:
    await fill(store, ["key_%", "key\\_%", "keyX", "key%"])
    assert names(await store.scan(S, prefix="key_")) == ["key_%"]
    assert names(await store.scan(S, prefix="key%")) == ["key%"]


async def test_scan_prefix_at_the_top_of_unicode(store: Store) -> None:
    top = "\U0010ffff"
    keys = ["\U0010fffe", top, top + "a", top + top, "\ud7ff", "\ud7ffz", "\ue000"]
    await fill(store, keys)
    assert names(await store.scan(S, prefix=top)) == [top, top + "a", top + top]
    assert names(await store.scan(S, prefix=top + top)) == [top + top]
    assert names(await store.scan(S, prefix="\ud7ff")) == ["\ud7ff", "\ud7ffz"]


async def test_scan_bounds(store: Store) -> None:
    await fill(store, ["a", "b", "c", "d", "e"])
    assert names(await store.scan(S, start="b")) == ["b", "c", "d", "e"]
    assert names(await store.scan(S, start_after="b")) == ["c", "d", "e"]
    assert names(await store.scan(S, start_after="bb")) == ["c", "d", "e"]
    assert names(await store.scan(S, end="d")) == ["a", "b", "c"]
    assert names(await store.scan(S, start="b", end="d")) == ["b", "c"]
    assert names(await store.scan(S, start="b", start_after="c")) == ["d", "e"]
    assert names(await store.scan(S, start="d", end="b")) == []
    assert names(await store.scan(S, start="b", end="e", reverse=True)) == ["d", "c", "b"]
    assert names(await store.scan(S, start_after="a", reverse=True, limit=2)) == ["e", "d"]


async def test_scan_limit(store: Store) -> None:
    await fill(store, ["a", "b", "c", "d"])
    assert names(await store.scan(S, limit=2)) == ["a", "b"]
    assert names(await store.scan(S, limit=2, reverse=True)) == ["d", "c"]
    assert names(await store.scan(S, limit=10)) == ["a", "b", "c", "d"]
    assert names(await store.scan(S, limit=1, prefix="c")) == ["c"]
    assert await store.scan(S, limit=0) == []
    assert await store.scan(S, limit=-1) == []


async def test_scan_large_limit_and_no_limit(store: Store) -> None:
    await store.write_batch(S, puts=[Record(f"k{i:05}", b"v") for i in range(1500)])
    assert len(await store.scan(S)) == 1500
    page = await store.scan(S, limit=1001, start_after="k00100")
    assert names(page) == [f"k{i:05}" for i in range(101, 1102)]


async def test_scan_missing_space(store: Store) -> None:
    assert await store.scan("never-used-space", prefix="a") == []


# -- expiry ---------------------------------------------------------------------------------------


async def test_expiry_boundary_everywhere(store: Store, clock: FakeClock) -> None:
    await store.put(S, "exp", b"v", expiration=1060)
    await store.put(S, "keep", b"v")
    clock.set(1059.999)
    assert (await store.get(S, "exp")) is not None
    assert names(await store.scan(S)) == ["exp", "keep"]
    clock.set(1060)  # expiration <= now: gone
    assert await store.get(S, "exp") is None
    assert await store.get_many(S, ["exp", "keep"]) == {"keep": Record("keep", b"v")}
    assert names(await store.scan(S)) == ["keep"]
    assert names(await store.scan(S, values=True, reverse=True, prefix="e")) == []
    assert await store.delete(S, "exp") is False  # no live record was removed
    assert await store.get(S, "exp") is None


async def test_expired_record_is_replaced_by_put(store: Store, clock: FakeClock) -> None:
    await store.put(S, "k", b"old", expiration=1100)
    clock.advance(200)
    await store.put(S, "k", b"new")
    assert await store.get(S, "k") == Record("k", b"new")


async def test_expired_records_do_not_count_against_scan_limit(
    store: Store, clock: FakeClock
) -> None:
    await store.put(S, "a", b"v", expiration=1010)
    await store.put(S, "b", b"v", expiration=1010)
    await store.put(S, "c", b"v")
    await store.put(S, "d", b"v")
    clock.advance(10)
    assert names(await store.scan(S, limit=1)) == ["c"]
    assert names(await store.scan(S, limit=1, reverse=True)) == ["d"]


async def test_purge_expired(store: Store, clock: FakeClock) -> None:
    await store.put(S, "a", b"v", expiration=1010)
    await store.put("other", "b", b"v", expiration=1020)
    await store.put(S, "c", b"v", expiration=5000)
    await store.put(S, "d", b"v")
    assert await store.purge_expired() == 0
    clock.set(1020)
    assert await store.purge_expired() == 2
    assert await store.purge_expired() == 0
    assert names(await store.scan(S)) == ["c", "d"]
    clock.set(10**9)  # purged rows are gone physically: moving the clock back changes nothing
    clock.set(1000)
    assert await store.get(S, "a") is None
    assert await store.get("other", "b") is None


# -- spaces ---------------------------------------------------------------------------------------


async def test_spaces_are_isolated(store: Store) -> None:
    await store.put("one", "k", b"1")
    await store.put("two", "k", b"2")
    await store.put("two", "only-two", b"2")
    assert (await store.get("one", "k")).value == b"1"  # type: ignore[union-attr]
    assert (await store.get("two", "k")).value == b"2"  # type: ignore[union-attr]
    assert names(await store.scan("one")) == ["k"]
    assert await store.get_many("one", ["only-two"]) == {}
    assert await store.delete("one", "only-two") is False
    await store.drop_space("two")
    assert await store.scan("two") == []
    assert names(await store.scan("one")) == ["k"]
    await store.drop_space("never-used-space")


async def test_space_names_that_look_like_prefixes(store: Store) -> None:
    await store.put("ns", "k", b"1")
    await store.put("ns2", "k", b"2")
    await store.put("", "k", b"3")
    assert names(await store.scan("ns")) == ["k"]
    assert (await store.get("ns2", "k")).value == b"2"  # type: ignore[union-attr]
    assert (await store.get("", "k")).value == b"3"  # type: ignore[union-attr]


# -- namespace registry ---------------------------------------------------------------------------


async def test_namespace_registry(store: Store) -> None:
    assert await store.list_namespaces() == []
    a = await store.create_namespace("a" * 32, "zeta")
    b = await store.create_namespace("b" * 32, "alpha")
    assert a.id == "a" * 32 and a.title == "zeta"
    assert await store.list_namespaces() == [b, a]  # ordered by title
    assert await store.get_namespace("a" * 32) == a
    assert await store.get_namespace("c" * 32) is None
    renamed = await store.rename_namespace("a" * 32, "beta")
    assert renamed.title == "beta"
    assert await store.get_namespace("a" * 32) == renamed
    assert await store.rename_namespace("a" * 32, "beta") == renamed  # same title: no-op
    assert [ns.title for ns in await store.list_namespaces()] == ["alpha", "beta"]


async def test_namespace_errors(store: Store) -> None:
    await store.create_namespace("a" * 32, "taken")
    await store.create_namespace("b" * 32, "other")
    with pytest.raises(NamespaceTitleExists) as info:
        await store.create_namespace("c" * 32, "taken")
    assert info.value.title == "taken"
    with pytest.raises(NamespaceTitleExists):
        await store.rename_namespace("b" * 32, "taken")
    with pytest.raises(NamespaceNotFound) as missing:
        await store.rename_namespace("c" * 32, "fresh")
    assert missing.value.namespace_id == "c" * 32
    with pytest.raises(NamespaceNotFound):
        await store.delete_namespace("c" * 32)
    with pytest.raises(StorageError):  # an id is registered once
        await store.create_namespace("a" * 32, "another title")
    assert [ns.title for ns in await store.list_namespaces()] == ["other", "taken"]
    assert issubclass(NamespaceNotFound, StorageError)
    assert issubclass(NamespaceTitleExists, StorageError)


async def test_namespace_titles_are_unique_per_account(store: Store) -> None:
    alice, bob = "a1" * 16, "b0" * 16
    mine = await store.create_namespace("a" * 32, "shared title", alice)
    theirs = await store.create_namespace("b" * 32, "shared title", bob)
    local = await store.create_namespace("c" * 32, "shared title")
    assert local.account_id == LOCAL_ACCOUNT_ID
    assert await store.list_namespaces(alice) == [mine]
    assert await store.list_namespaces(bob) == [theirs]
    assert len(await store.list_namespaces()) == 3
    with pytest.raises(NamespaceTitleExists):
        await store.create_namespace("d" * 32, "shared title", alice)
    await store.create_namespace("d" * 32, "second", alice)
    with pytest.raises(NamespaceTitleExists):
        await store.rename_namespace("d" * 32, "shared title")
    renamed = await store.rename_namespace("a" * 32, "renamed")
    assert renamed.account_id == alice
    assert await store.get_namespace("a" * 32) == renamed


async def test_delete_namespace_removes_its_keys(store: Store) -> None:
    await store.create_namespace("a" * 32, "doomed")
    await store.create_namespace("b" * 32, "kept")
    await fill(store, ["x", "y"], space="a" * 32)
    await fill(store, ["x"], space="b" * 32)
    await store.delete_namespace("a" * 32)
    assert await store.get_namespace("a" * 32) is None
    assert await store.scan("a" * 32) == []
    assert await store.get("a" * 32, "x") is None
    assert names(await store.scan("b" * 32)) == ["x"]
    # The title is free again, and a re-created namespace starts empty.
    await store.create_namespace("a" * 32, "doomed")
    assert await store.scan("a" * 32) == []


async def test_ensure_namespace(store: Store) -> None:
    first = await store.ensure_namespace("a" * 32, "title")
    assert await store.ensure_namespace("a" * 32, "ignored") == first
    assert (await store.ensure_namespace("b" * 32)).title == "b" * 32


# -- lifecycle ------------------------------------------------------------------------------------


async def test_close_is_idempotent(make_store: StoreFactory) -> None:
    store = await make_store()
    await store.put(S, "k", b"v")
    await store.close()
    await store.close()


async def test_async_context_manager_closes(make_store: StoreFactory) -> None:
    store = await make_store()
    async with store as entered:
        assert entered is store
    await store.close()


async def test_sqlite_reopen_keeps_data(tmp_path, clock) -> None:
    url = f"sqlite:///{tmp_path / 'reopen.sqlite3'}"
    first = open_store(url, clock=clock)
    await first.put(S, "k", b"v", expiration=5000, metadata='"m"')
    await first.create_namespace("a" * 32, "t")
    await first.close()
    second = open_store(url, clock=clock)
    assert await second.get(S, "k") == Record("k", b"v", 5000, '"m"')
    assert [ns.title for ns in await second.list_namespaces()] == ["t"]
    await second.close()


async def test_memory_stores_are_separate(make_store: StoreFactory) -> None:
    one, two = await make_store(), await make_store()
    await one.put(S, "k", b"v")
    assert await two.get(S, "k") is None


async def test_max_value_round_trip(store: Store) -> None:
    size = 25 * 1024 * 1024  # 26,214,400 bytes: KV's largest value
    value = bytes(range(256)) * (size // 256)
    assert len(value) == 26_214_400
    await store.put(S, "big", value, metadata='"m"')
    record = await store.get(S, "big")
    assert record is not None and record.value == value
    many = await store.get_many(S, ["big"])
    assert many["big"].value == value
    scanned = await store.scan(S, values=True)
    assert scanned[0].value == value
    await store.write_batch(S, puts=[Record("big2", value)])
    assert (await store.get(S, "big2")).value == value  # type: ignore[union-attr]


async def test_scan_keys_matches_scan(store: Store, clock) -> None:
    await store.put(S, "b", b"1", expiration=2000, metadata='{"m":1}')
    await store.put(S, "a", b"2")
    await store.put(S, "ab", b"3")
    await store.put(S, "gone", b"4", expiration=1001)
    clock.advance(5)
    assert await store.scan_keys(S) == [("a", None, None), ("ab", None, None), ("b", 2000, '{"m":1}')]
    assert await store.scan_keys(S, prefix="a", start_after="a", limit=5) == [("ab", None, None)]
    assert await store.scan_keys(S, limit=1) == [("a", None, None)]
    assert await store.scan_keys("other-space") == []


async def test_count_live_records_by_space_and_prefix(store: Store, clock: FakeClock) -> None:
    # Store.count (the data explorer's key counts): live records only, per space and prefix;
    # more than one 1000-record page so the generic paging default is exercised too.
    await store.write_batch("a", [Record(f"k{i:04d}", b"v") for i in range(1500)])
    await store.put("a", "p1", b"v", expiration=int(clock.now()) + 10)
    await store.put("b", "k", b"v")
    assert await store.count("a") == 1501
    assert await store.count("a", prefix="p") == 1
    assert await store.count("missing") == 0
    clock.advance(10)
    assert await store.count("a") == 1500 and await store.count("b") == 1
    assert await Store.count(store, "a") == 1500  # the base class's paging default agrees
