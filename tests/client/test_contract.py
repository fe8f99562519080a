"""The ``KVClient`` contract, run on both implementations: ``LocalKV`` over a real SQLite
store and ``RemoteKV`` over the real API app (in process). What a command does must not
depend on where the data lives."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgekv.client import KVClient, LocalKV
from edgekv.client.bulk import export_items, load_bulk_file
from edgekv.client.bulkfile import BulkFileError
from edgekv.errors import KVError, KVTypeError, NamespaceTitleExists
from tests.client.conftest import Server


@pytest.fixture(params=["local", "remote"])
async def client(request: pytest.FixtureRequest, tmp_path: Path,
                 server: Server) -> AsyncIterator[KVClient]:
    kv: KVClient = (LocalKV(f"sqlite:///{tmp_path / 'local.sqlite3'}") if request.param == "local"
                    else server.client())
    async with kv:
        yield kv


async def test_namespaces(client: KVClient) -> None:
    first = await client.create_namespace("one")
    await client.create_namespace("two")
    with pytest.raises(NamespaceTitleExists):
        await client.create_namespace("one")
    await client.rename_namespace(first.id, "uno")
    assert sorted(ns.title for ns in await client.list_namespaces()) == ["two", "uno"]
    assert (await client.namespace_by_title("uno")).id == first.id  # type: ignore[union-attr]
    await client.delete_namespace(first.id)
    assert [ns.title for ns in await client.list_namespaces()] == ["two"]


async def test_keys(client: KVClient) -> None:
    ns = (await client.create_namespace("keys")).id
    await client.put(ns, "text", "v", expiration_ttl=300, metadata={"m": [1]})
    await client.put(ns, "bytes", b"\x00\xff")
    found = await client.get_with_metadata(ns, "text")
    assert found is not None and found.value == b"v" and found.metadata == '{"m":[1]}'
    assert found.expiration is not None and abs(found.expiration - time.time() - 300) < 10
    assert (await client.get(ns, "bytes")).value == b"\x00\xff"  # type: ignore[union-attr]
    assert await client.get(ns, "missing") is None
    listed = [(r.key, r.metadata) async for r in client.list_keys(ns)]
    assert listed == [("bytes", None), ("text", '{"m":[1]}')]
    assert [r.key async for r in client.list_keys(ns, "te")] == ["text"]
    await client.delete(ns, "text")
    assert [r.key async for r in client.list_keys(ns)] == ["bytes"]
    # bulk get is a text read: the API replaces bytes that are not UTF-8 (U+FFFD)
    shown = b"\x00\xef\xbf\xbd" if client.location == "remote" else b"\x00\xff"
    assert await client.get_bulk(ns, ["bytes", "text"]) == {"bytes": shown, "text": None}


async def test_bulk_files_in_and_out(client: KVClient) -> None:
    later = int(time.time()) + 3600
    items = [{"key": f"k{i:04d}", "value": f"v{i}", "metadata": {"i": i}} for i in range(1_200)]
    items.append({"key": "bin", "value": "/wA=", "base64": True, "expiration": later})
    load = await load_bulk_file(client, None, io.StringIO(json.dumps(items)), "f.json",
                                title="restored")
    assert load.created and load.stored == 1_201
    exported = [item async for item in export_items(client, load.namespace_id)]
    assert exported == sorted(items, key=lambda item: str(item["key"]))
    await client.delete_bulk(load.namespace_id, [f"k{i:04d}" for i in range(1_000)])
    assert len([r async for r in client.list_keys(load.namespace_id)]) == 201
    with pytest.raises(KVTypeError):
        await client.delete_bulk(load.namespace_id, ["k1000", ""])
    assert len([r async for r in client.list_keys(load.namespace_id)]) == 201


async def test_a_bad_file_stores_nothing_and_drops_the_namespace_made_for_it(client: KVClient) -> None:
    bad = [{"key": "ok", "value": "v"}, {"key": "x" * 600, "value": "v"}]
    with pytest.raises(BulkFileError, match="Nothing was written: 1 item"):
        await load_bulk_file(client, None, io.StringIO(json.dumps(bad)), "bad.json", title="new")
    assert await client.namespace_by_title("new") is None
    ns = (await client.create_namespace("kept")).id
    with pytest.raises(BulkFileError):
        await load_bulk_file(client, ns, io.StringIO(json.dumps(bad)), "bad.json")
    assert [r async for r in client.list_keys(ns)] == []
    assert await client.namespace_by_title("kept") is not None


async def test_expired_items_are_skipped_only_when_asked(client: KVClient) -> None:
    ns = (await client.create_namespace("exp")).id
    old = [{"key": "gone", "value": "v", "expiration": 1_000}, {"key": "kept", "value": "v"}]
    with pytest.raises(BulkFileError):
        await load_bulk_file(client, ns, io.StringIO(json.dumps(old)), "old.json")
    load = await load_bulk_file(client, ns, io.StringIO(json.dumps(old)), "old.json",
                                skip_expired=True)
    assert load.expired == ["gone"] and load.stored == 1
    with pytest.raises(KVError, match="Expiration TTL must be at least 60"):
        client.validator(ns).prepare_put("k", "v", expiration_ttl=10)
