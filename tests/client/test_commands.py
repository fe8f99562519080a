"""The library behind every ``edgekv kv`` command, called as a Python user calls it (no CLI),
on the local store and on the v4 API alike. Each test names the command whose work it does;
the CLI tests (tests/cli) check the flags, prompts and wrangler's output around these calls.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgekv.client import (
    KVClient,
    LocalKV,
    RemoteKV,
    RemoteSetupError,
    namespace_title,
    open_client,
)
from edgekv.client.bulk import (
    BulkDefaults,
    delete_keys_file,
    get_keys_file,
    load_bulk_file,
    write_export,
)
from edgekv.client.bulkfile import BulkFileError
from edgekv.client.wrangler_import import binding_titles, import_namespaces
from edgekv.client.wrangler_state import find_kv_namespaces
from edgekv.config import load_config
from edgekv.errors import NamespaceNotFound, NamespaceTitleExists
from tests.client.conftest import Server


@pytest.fixture(params=["local", "remote"])
async def client(request: pytest.FixtureRequest, tmp_path: Path,
                 server: Server) -> AsyncIterator[KVClient]:
    kv: KVClient = (LocalKV(f"sqlite:///{tmp_path / 'local.sqlite3'}") if request.param == "local"
                    else server.client())
    async with kv:
        yield kv


def _file(value: object) -> io.StringIO:
    return io.StringIO(json.dumps(value))


# -- kv namespace create | list | rename | delete ------------------------------------------------

async def test_namespace_create_list_rename_delete(client: KVClient) -> None:
    title = namespace_title("cache", env="staging", preview=True)  # create --env staging --preview
    assert title == "staging-cache_preview"
    assert namespace_title("cache") == "cache"
    created = await client.create_namespace(title)
    with pytest.raises(NamespaceTitleExists):
        await client.create_namespace(title)
    listed = await client.list_namespaces()
    assert [(ns.id, ns.title) for ns in listed] == [(created.id, title)]
    await client.rename_namespace(created.id, "renamed")
    assert (await client.namespace_by_title("renamed")).id == created.id  # type: ignore[union-attr]
    assert await client.namespace_by_title(title) is None  # delete NAME looks the title up
    await client.delete_namespace(created.id)
    assert await client.list_namespaces() == []


async def test_rename_of_a_missing_namespace_fails(client: KVClient) -> None:
    if client.location == "remote":
        from edgekv.client import ApiRequestFailed

        with pytest.raises(ApiRequestFailed):
            await client.rename_namespace("0" * 32, "x")
    else:
        with pytest.raises(NamespaceNotFound):
            await client.rename_namespace("0" * 32, "x")


# -- kv key put | get | list | delete ----------------------------------------------------------

async def test_key_put_get_list_delete(client: KVClient) -> None:
    ns = (await client.create_namespace("keys")).id
    await client.put(ns, "a", "text", metadata={"m": 1})
    await client.put(ns, "b", b"\x00\xff", expiration_ttl=600)
    assert (await client.get(ns, "a")).value == b"text"  # type: ignore[union-attr]
    assert (await client.get(ns, "b")).value == b"\x00\xff"  # type: ignore[union-attr]
    assert await client.get(ns, "missing") is None
    # `key get` of a missing key: local prints "Value not found", remote fails with this text
    missing = client.missing_value_error(ns, "missing")
    assert (missing is None) == (client.location == "local")
    listed = [(r.key, r.metadata, r.expiration is not None) async for r in client.list_keys(ns)]
    assert listed == [("a", '{"m":1}', False), ("b", None, True)]
    await client.delete(ns, "a")
    await client.delete(ns, "never-there")  # no error, as wrangler
    assert [r.key async for r in client.list_keys(ns)] == ["b"]


# -- kv bulk put | get | delete ----------------------------------------------------------------

async def test_bulk_put_get_delete_from_files(client: KVClient) -> None:
    ns = (await client.create_namespace("bulk")).id
    items = [{"key": "plain", "value": "v"},
             {"key": "own", "value": "w", "metadata": {"own": True}, "expiration_ttl": 3600}]
    defaults = BulkDefaults(expiration_ttl=600, metadata={"from": "flags"})  # --ttl, --metadata
    load = await load_bulk_file(client, ns, _file(items), "items.json", defaults=defaults)
    assert load.stored == 2 and load.namespace_id == ns
    meta = {r.key: r.metadata async for r in client.list_keys(ns)}
    assert meta == {"own": '{"own":true}', "plain": '{"from":"flags"}'}

    found = await get_keys_file(client, ns, _file(["plain", {"name": "nope"}]), "keys.json")
    assert found == {"plain": b"v", "nope": None}
    with pytest.raises(BulkFileError, match='Unexpected JSON input from "bad.json"'):
        await get_keys_file(client, ns, _file([1]), "bad.json")

    with pytest.raises(BulkFileError):  # a bad keys file deletes nothing
        await delete_keys_file(client, ns, _file(["plain", 2]), "bad.json")
    assert len([r async for r in client.list_keys(ns)]) == 2
    assert await delete_keys_file(client, ns, _file([{"name": "plain"}]), "del.json") == ["plain"]
    assert [r.key async for r in client.list_keys(ns)] == ["own"]


# -- kv namespace export | import --------------------------------------------------------------

async def test_export_then_import_is_lossless_across_sides(client: KVClient, tmp_path: Path,
                                                          server: Server) -> None:
    ns = (await client.create_namespace("source")).id
    later = int(time.time()) + 7200
    await client.put(ns, "bin", b"\x00\xff\x10", expiration=later)
    await client.put(ns, "text", "héllo", metadata={"tags": ["a"]})
    await client.put(ns, "x/other", "skip")
    pieces: list[str] = []
    await write_export(client, ns, pieces.append)
    text = "".join(pieces)
    assert text.endswith("]\n") and json.loads(text)[0] == {
        "key": "bin", "value": "AP8Q", "base64": True, "expiration": later}
    only: list[str] = []
    await write_export(client, ns, only.append, prefix="x/")  # export --prefix
    assert [item["key"] for item in json.loads("".join(only))] == ["x/other"]

    # import into the other side, into a namespace created by title
    other: KVClient = (server.client() if client.location == "local"
                       else LocalKV(f"sqlite:///{tmp_path / 'other.sqlite3'}"))
    async with other:
        announced: list[tuple[str, bool]] = []
        load = await load_bulk_file(other, None, io.StringIO(text), "export.json", title="copy",
                                    on_namespace=lambda i, c: announced.append((i, c)),
                                    skip_expired=True)
        assert announced == [(load.namespace_id, True)] and load.stored == 3
        again: list[str] = []
        await write_export(other, load.namespace_id, again.append)
        assert "".join(again) == text


# -- kv import-wrangler ------------------------------------------------------------------------

def _wrangler_state(root: Path, namespaces: dict[str, dict[str, tuple[bytes, int | None]]]) -> Path:
    """Miniflare's KV layout (client/wrangler_state.py): blobs per namespace folder, one
    ``_mf_entries`` database per namespace; expirations in milliseconds."""
    kv = root / "v3" / "kv"
    objects = kv / "miniflare-KVNamespaceObject"
    objects.mkdir(parents=True)
    for n, (namespace_id, entries) in enumerate(namespaces.items()):
        blobs = kv / namespace_id / "blobs"
        blobs.mkdir(parents=True)
        db = sqlite3.connect(objects / f"{n:064x}.sqlite")
        db.execute("CREATE TABLE _mf_entries(key TEXT PRIMARY KEY, blob_id TEXT, "
                   "expiration INTEGER, metadata TEXT)")
        for i, (key, (value, expiration_ms)) in enumerate(entries.items()):
            blob_id = f"{namespace_id}-{i}"
            (blobs / blob_id).write_bytes(value)
            db.execute("INSERT INTO _mf_entries VALUES (?, ?, ?, ?)",
                       (key, blob_id, expiration_ms, '{"w":1}' if key == "meta" else None))
        db.commit()
        db.close()
    return root


async def test_import_wrangler_state(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nkv_namespaces = [{ binding = "CACHE", id = "cache-id" }]\n')
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    later_ms = (int(time.time()) + 3600) * 1000
    source = _wrangler_state(tmp_path / ".wrangler" / "state", {
        "cache-id": {"a": (b"1", None), "meta": (b"\xff", later_ms), "gone": (b"x", 1_000)},
        "loose-id": {"b": (b"2", None)},
    })
    titles = binding_titles(config)
    assert titles == {"cache-id": "CACHE"}
    async with LocalKV(f"sqlite:///{tmp_path / 'kv.sqlite3'}") as local:
        await local.put("loose-id", "b", "old")  # replaced by the import
        done = await import_namespaces(local, find_kv_namespaces(source), titles)
        assert done == [("cache-id", 2), ("loose-id", 1)]  # the expired entry is left out
        assert (await local.get("cache-id", "a")).value == b"1"  # type: ignore[union-attr]
        assert (await local.get("loose-id", "b")).value == b"2"  # type: ignore[union-attr]
        meta = await local.get_with_metadata("cache-id", "meta")
        assert meta is not None and meta.value == b"\xff" and meta.metadata == '{"w":1}'
        assert meta.expiration == later_ms // 1000
        assert {ns.id: ns.title for ns in await local.list_namespaces()}["cache-id"] == "CACHE"


# -- --local / --remote: which client a command opens -------------------------------------------

async def test_open_client_local_is_the_projects_store(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "w"\n')
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    async with open_client(config) as kv:
        assert isinstance(kv, LocalKV) and kv.url == config.state_paths().kv_url
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    async with open_client(config, kv_url=url) as kv:  # --store / a cluster's store
        assert isinstance(kv, LocalKV) and kv.url == url


async def test_open_client_remote_reads_wranglers_variables(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "w"\n')
    (tmp_path / ".env").write_text("CLOUDFLARE_API_TOKEN=from-dotenv\n"
                                   "CLOUDFLARE_API_BASE_URL=http://kv.test/client/v4/\n"
                                   "CLOUDFLARE_ACCOUNT_ID=acc\n")
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    async with open_client(config, remote=True) as kv:  # the process, then .env beside the config
        assert isinstance(kv, RemoteKV)
        assert kv.settings.api_token == "from-dotenv"
        assert kv.settings.base_url == "http://kv.test/client/v4"
    given = {"CLOUDFLARE_API_TOKEN": "given", "CLOUDFLARE_ACCOUNT_ID": "acc"}
    async with open_client(config, remote=True, environ=given) as kv:
        assert kv.settings.api_token == "given"  # type: ignore[attr-defined]
    with pytest.raises(RemoteSetupError):
        open_client(config, remote=True, environ={})
