"""``RemoteKV`` against the real edgekv v4 API app (in process, real SQLite stores): every
operation, wrangler's request shapes and error texts, chunking, paging, retries.

Cases translated from wrangler's own tests name their source: workers-sdk
``packages/wrangler/src/__tests__/kv/bulk.test.ts`` and ``key.test.ts``.
"""

from __future__ import annotations

import json
import time
from urllib.parse import unquote

import pytest

from edgekv.client import ApiRequestFailed, RemoteKV, RemoteSetupError
from edgekv.client.bulk import export_item
from edgekv.errors import KVError, KVTypeError, NamespaceTitleExists
from edgekv.storage import Record
from tests.client.conftest import BASE_URL, Server


def _records(client: RemoteKV, ns: str, count: int, *, prefix: str = "k") -> list[Record]:
    rules = client.validator(ns)
    return [rules.prepare_put(f"{prefix}{i:05d}", f"v{i}") for i in range(count)]


async def test_namespaces_create_list_rename_delete(server: Server) -> None:
    async with server.client() as kv:
        first = await kv.create_namespace("beta")
        second = await kv.create_namespace("alpha")
        assert [ns.title for ns in await kv.list_namespaces()] == ["alpha", "beta"]
        with pytest.raises(NamespaceTitleExists):
            await kv.create_namespace("alpha")
        await kv.rename_namespace(first.id, "gamma")
        assert (await kv.namespace_by_title("gamma")).id == first.id  # type: ignore[union-attr]
        await kv.delete_namespace(second.id)
        assert [ns.title for ns in await kv.list_namespaces()] == ["gamma"]
        with pytest.raises(ApiRequestFailed) as caught:
            await kv.rename_namespace(second.id, "again")
    assert str(caught.value) == (
        f"A request to the Cloudflare API (/accounts/{server.account}/storage/kv/namespaces/"
        f"{second.id}) failed.\nrename namespace: 'namespace not found' [code: 10013]"
    )
    list_requests = [s.path for s in server.faults.seen if s.method == "GET" and "/namespaces?" in s.path]
    # wrangler's list: per_page=1000&order=title&direction=asc, then &page=2 until a page is empty
    assert list_requests[:2] == [
        f"/client/v4/accounts/{server.account}/storage/kv/namespaces?per_page=1000&order=title&direction=asc",
        f"/client/v4/accounts/{server.account}/storage/kv/namespaces?per_page=1000&order=title&direction=asc&page=2",
    ]


async def test_namespace_list_ends_with_a_server_that_ignores_pages(server: Server) -> None:
    # D.1: a server that ignores `page` makes the TS SDK loop forever; RemoteKV stops when a
    # page brings nothing new
    server.faults.ignore_page = True
    async with server.client() as kv:
        for i in range(5):
            await kv.create_namespace(f"ns{i}")
        assert [ns.title for ns in await kv.list_namespaces()] == [f"ns{i}" for i in range(5)]
    assert len([s for s in server.faults.seen if "/namespaces?" in s.path]) == 2


async def test_values_text_bytes_metadata_expiration_and_odd_keys(server: Server) -> None:
    async with server.client() as kv:
        ns = (await kv.create_namespace("values")).id
        odd = "sp ace/x?y%z#ü!*'()"
        await kv.put(ns, odd, "text", expiration_ttl=120)
        await kv.put(ns, "bin", b"\x00\xff\xfe", metadata={"a": [1, "two"]})
        await kv.put(ns, "meta-text", "hello", metadata={"m": True})
        got = await kv.get(ns, odd)
        assert got is not None and got.value == b"text"
        assert got.expiration is not None and abs(got.expiration - (time.time() + 120)) < 5
        assert (await kv.get_with_metadata(ns, "bin")) == Record("bin", b"\x00\xff\xfe", None, '{"a":[1,"two"]}')
        assert (await kv.get_with_metadata(ns, "meta-text")).metadata == '{"m":true}'  # type: ignore[union-attr]
        assert await kv.get(ns, "missing") is None
        assert await kv.get_with_metadata(ns, "missing") is None
        assert kv.missing_value_error(ns, "a b") == (
            f"Failed to fetch {BASE_URL}/accounts/{server.account}/storage/kv/namespaces/{ns}/values/a%20b"
            " - 404: Not Found);")  # sic: wrangler 4.86's text
        names = [r.key async for r in kv.list_keys(ns)]
        assert names == sorted(["bin", "meta-text", odd])
        await kv.delete(ns, odd)
        assert await kv.get(ns, odd) is None
    puts = [s for s in server.faults.seen if s.method == "PUT" and "/values/" in s.path]
    # encodeURIComponent-style key segment; the TTL as a query parameter
    assert puts[0].path.endswith("/values/sp%20ace%2Fx%3Fy%25z%23%C3%BC!*'()?expiration_ttl=120")
    assert unquote(puts[0].path.split("/values/")[1].split("?")[0]) == odd


async def test_the_request_bodies_are_wranglers(server: Server) -> None:
    server.faults.keep_bodies = True
    async with server.client() as kv:
        ns = (await kv.create_namespace("bodies")).id
        await kv.put(ns, "plain", "v")
        await kv.put(ns, "file", b"\x01", metadata={"k": 1})
        await kv.put(ns, "text", "v", metadata={"k": 1})
    plain, file_, text = [s.body for s in server.faults.seen if "/values/" in s.path]
    assert plain == b"v"
    # key.test.ts "should put a key with metadata": a multipart body, metadata as a plain field
    assert b'name="value"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n\x01\r\n' in file_
    assert b'Content-Disposition: form-data; name="metadata"\r\n\r\n{"k":1}\r\n' in file_
    assert b'Content-Disposition: form-data; name="value"\r\n\r\nv\r\n' in text


async def test_put_errors_are_the_apis_in_wranglers_words(server: Server) -> None:
    async with server.client() as kv:
        ns = (await kv.create_namespace("errors")).id
        with pytest.raises(ApiRequestFailed) as caught:
            await kv.put(ns, "k", "v", expiration_ttl=59)
    assert str(caught.value) == (
        f"A request to the Cloudflare API (/accounts/{server.account}/storage/kv/namespaces/{ns}/"
        "values/k) failed.\nInvalid expiration_ttl of 59. Expiration TTL must be at least 60. [code: 10001]"
    )


async def test_list_keys_follows_the_cursor_through_every_page(server: Server) -> None:
    async with server.client() as kv:
        ns = (await kv.create_namespace("many")).id
        await kv.put_bulk(ns, _records(kv, ns, 2_500))
        await kv.put_bulk(ns, _records(kv, ns, 10, prefix="other"))
        names = [r.key async for r in kv.list_keys(ns, "k")]
    assert names == [f"k{i:05d}" for i in range(2_500)]
    key_lists = [s.path for s in server.faults.seen if "/keys?" in s.path]
    assert len(key_lists) == 3 and key_lists[0].endswith("/keys?prefix=k")
    assert "&cursor=" in key_lists[1]


async def test_bulk_put_splits_under_the_item_and_byte_limits(server: Server) -> None:
    async with server.client(bulk_max_items=300, bulk_max_bytes=20_000) as kv:
        ns = (await kv.create_namespace("chunks")).id
        seen_progress: list[tuple[int, int]] = []
        assert await kv.put_bulk(ns, _records(kv, ns, 1_000),
                                 progress=lambda d, t: seen_progress.append((d, t))) == 1_000
        bulk = [s for s in server.faults.seen if s.method == "PUT" and s.path.endswith("/bulk")]
        assert all(s.body_bytes <= 20_000 for s in bulk)
        assert len(bulk) >= 4 and sum(1 for _ in bulk) == len(seen_progress) - 1
        assert seen_progress[0] == (0, 1_000) and seen_progress[-1] == (1_000, 1_000)
        assert len([r async for r in kv.list_keys(ns)]) == 1_000
        big = kv.validator(ns).prepare_put("big", "x" * 30_000)
        with pytest.raises(ApiRequestFailed, match="more than the API's limit of 20,000 bytes"):
            await kv.put_bulk(ns, [big])


async def test_bulk_put_of_10001_items(server: Server) -> None:
    # bulk.test.ts "should put the key-values in batches of 1000 parsed from a file"
    async with server.client() as kv:
        ns = (await kv.create_namespace("big")).id
        assert await kv.put_bulk(ns, _records(kv, ns, 10_001)) == 10_001
        sizes = [s for s in server.faults.seen if s.method == "PUT" and s.path.endswith("/bulk")]
        assert len(sizes) == 11
    # asked for more than the API takes, a request still holds at most 10,000 items
    server.faults.seen.clear()
    async with server.client(bulk_max_items=50_000) as kv:
        assert await kv.put_bulk(ns, _records(kv, ns, 10_001)) == 10_001
        sizes = [s for s in server.faults.seen if s.method == "PUT" and s.path.endswith("/bulk")]
        assert len(sizes) == 2
        found = await kv.get_bulk(ns, ["k00000", "k10000", "nope"])
    assert found == {"k00000": b"v0", "k10000": b"v10000", "nope": None}


async def test_a_bad_item_sends_nothing(server: Server) -> None:
    async with server.client(bulk_max_items=2) as kv:
        ns = (await kv.create_namespace("atomic")).id
        good = _records(kv, ns, 5)

        def items():
            yield from good
            raise KVError("PUT", 400, "bad")

        with pytest.raises(KVError):
            await kv.put_bulk(ns, items())
        assert [r async for r in kv.list_keys(ns)] == []
    assert not [s for s in server.faults.seen if s.path.endswith("/bulk")]


async def test_bulk_delete_sends_json_arrays_of_1000_with_DELETE(server: Server) -> None:
    # bulk.test.ts "should delete the keys in batches of 5000 parsed from a file": 1,000 per request
    server.faults.keep_bodies = True
    async with server.client() as kv:
        ns = (await kv.create_namespace("del")).id
        await kv.put_bulk(ns, _records(kv, ns, 2_500))
        keys = [f"k{i:05d}" for i in range(2_400)]
        await kv.delete_bulk(ns, keys)
        assert [r.key async for r in kv.list_keys(ns)] == [f"k{i:05d}" for i in range(2_400, 2_500)]
        with pytest.raises(KVTypeError, match="Key name cannot be empty."):
            await kv.delete_bulk(ns, ["k02450", ""])  # checked first: nothing is deleted
        assert (await kv.get(ns, "k02450")) is not None
    deletes = [s for s in server.faults.seen if s.method == "DELETE" and s.path.endswith("/bulk")]
    assert [len(json.loads(s.body)) for s in deletes] == [1000, 1000, 400]


async def test_export_reads_binary_values_metadata_and_expirations(server: Server) -> None:
    async with server.client() as kv:
        ns = (await kv.create_namespace("export")).id
        await kv.put(ns, "a", b"\xff\x00", metadata={"x": 1}, expiration_ttl=600)
        await kv.put(ns, "b", "text")
        await kv.put(ns, "c", "replacement \ufffd char")
        await kv.put_bulk(ns, _records(kv, ns, 250))
        items = [export_item(r) async for r in kv.export(ns)]
    assert items[0]["key"] == "a" and items[0]["value"] == "/wA=" and items[0]["base64"] is True
    assert items[0]["metadata"] == {"x": 1} and isinstance(items[0]["expiration"], int)
    assert items[1] == {"key": "b", "value": "text"}
    assert items[2] == {"key": "c", "value": "replacement \ufffd char"}
    assert len(items) == 253
    # text comes 100 at a time through bulk get; only what it cannot carry exactly is read alone
    reads = [s for s in server.faults.seen if s.method == "GET" and "/values/" in s.path]
    assert sorted(r.path.rsplit("/", 1)[1] for r in reads) == ["a", "c"]
    assert len([s for s in server.faults.seen if s.path.endswith("/bulk/get")]) == 3


async def test_429_and_503_are_retried_and_retry_after_is_honoured(server: Server) -> None:
    async with server.client() as kv:
        ns = (await kv.create_namespace("retry")).id
        server.faults.plan = [(429, {"Retry-After": "3"}), (503, {}), (502, {})]
        await kv.put(ns, "k", "v")
        assert server.waits == [3.0, 1.0, 2.0]  # Retry-After, then the doubling backoff
        assert (await kv.get(ns, "k")).value == b"v"  # type: ignore[union-attr]
        server.faults.plan = [(429, {"Retry-After": "3600"})]
        await kv.get(ns, "k")
        assert server.waits[-1] == 60.0  # a Retry-After is honoured up to max_retry_after
        server.faults.plan = [(429, {"Retry-After": "nan"})]  # parses as a float, but is no wait
        await kv.get(ns, "k")
        assert server.waits[-1] == 0.5  # the usual backoff of a first retry


async def test_retries_are_bounded_and_the_last_failure_is_reported(server: Server) -> None:
    async with server.client(retries=2) as kv:
        ns = (await kv.create_namespace("bounded")).id
        server.faults.plan = [(503, {})] * 3
        with pytest.raises(ApiRequestFailed) as caught:
            await kv.delete(ns, "k")
        assert "injected [code: 10503]" in str(caught.value)
        assert len(server.waits) == 2
        # creating a namespace is not idempotent: a 5xx is not retried (a 429 is)
        server.faults.plan = [(500, {})]
        with pytest.raises(ApiRequestFailed):
            await kv.create_namespace("once")
        server.faults.plan = [(429, {})]
        await kv.create_namespace("after-429")


async def test_account_from_memberships_and_global_key_auth(server: Server) -> None:
    async with server.client(server.settings(account_id=None)) as kv:
        assert await kv.account_id() == server.account
        await kv.create_namespace("via-memberships")
    created = await server.registry.create_account("keyed", email="ops@example.com")
    settings = server.settings(api_token=None, email="ops@example.com", api_key=created.api_key,
                               account_id=None)
    async with server.client(settings) as kv:
        assert await kv.account_id() == created.account.id
        assert [ns.title for ns in await kv.list_namespaces()] == []


async def test_a_wrong_token_is_the_apis_auth_error(server: Server) -> None:
    async with server.client(server.settings(api_token="nope")) as kv:
        with pytest.raises(ApiRequestFailed) as caught:
            await kv.list_namespaces()
    assert str(caught.value).endswith("failed.\nAuthentication error [code: 10000]")


def test_no_credential_is_refused_before_any_request() -> None:
    from edgekv.client import RemoteSettings

    with pytest.raises(RemoteSetupError, match="CLOUDFLARE_API_TOKEN"):
        RemoteSettings.from_environ({"CLOUDFLARE_API_BASE_URL": BASE_URL})


async def test_an_unreachable_server_is_retried_then_reported() -> None:
    from edgekv.client import RemoteSettings
    from tests.cli.test_dev_command import free_port

    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    settings = RemoteSettings(base_url=f"http://127.0.0.1:{free_port()}/client/v4",
                              api_token="t", account_id="a" * 32)
    async with RemoteKV(settings, sleep=no_sleep, retries=3) as kv:
        with pytest.raises(ApiRequestFailed) as caught:
            await kv.list_namespaces()
    assert str(caught.value).startswith(
        f"A request to the Cloudflare API (/accounts/{'a' * 32}/storage/kv/namespaces) failed.\n")
    assert waits == [0.5, 1.0, 2.0]


async def test_edgekv_devs_open_api_needs_no_credential(tmp_path) -> None:
    from edgekv.client import RemoteSettings
    from edgekv.server.guard import LoopbackGuard
    from edgekv.server.management import ManagementPaths, api_context, not_found_app
    from edgekv.storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    app = ManagementPaths(not_found_app, api_context(store, open_without_credential=True),
                          guard=LoopbackGuard(["127.0.0.1"]))
    settings = RemoteSettings.from_environ(
        {"CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:8787/cdn-cgi/edgekv/client/v4"})
    assert settings.auth_headers() == {}
    import httpx

    try:
        async with RemoteKV(settings, transport=httpx.ASGITransport(app=app)) as kv:
            ns = (await kv.create_namespace("dev-ns")).id  # in the local account, from /memberships
            await kv.put(ns, "k", "v")
            assert (await kv.get(ns, "k")).value == b"v"  # type: ignore[union-attr]
            assert await kv.account_id() == "edeed0000000000000000000000000c1"
    finally:
        await store.close()


async def test_a_reply_that_is_not_an_envelope_is_reported_as_malformed(server: Server) -> None:
    async with server.client(retries=0) as kv:
        server.faults.plan = [(502, {}, b"<html>bad gateway</html>")]
        with pytest.raises(ApiRequestFailed) as caught:
            await kv.list_namespaces()
    assert str(caught.value) == (
        "Received a malformed response from the API\n<html>bad gateway</html>\n"
        f"GET /accounts/{server.account}/storage/kv/namespaces -> 502 Bad Gateway")


async def test_a_failed_value_read_is_wranglers_failed_to_fetch(server: Server) -> None:
    async with server.client() as kv:
        with pytest.raises(ApiRequestFailed) as caught:
            await kv.get("0" * 32, "k")  # no such namespace: 404 with code 10013
    assert str(caught.value) == (
        f"Failed to fetch {BASE_URL}/accounts/{server.account}/storage/kv/namespaces/{'0' * 32}"
        "/values/k - 404: Not Found);")


async def test_several_accounts_without_an_account_id_is_an_error_listing_them(tmp_path) -> None:
    import httpx

    from edgekv.accounts import AccountRegistry
    from edgekv.client import RemoteSettings
    from edgekv.server.management import ManagementPaths, api_context, not_found_app
    from edgekv.storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    try:
        other = (await AccountRegistry(store).create_account("other")).account
        app = ManagementPaths(not_found_app, api_context(store, open_without_credential=True))
        settings = RemoteSettings(base_url="http://127.0.0.1/cdn-cgi/edgekv/client/v4")
        async with RemoteKV(settings, transport=httpx.ASGITransport(app=app)) as kv:
            with pytest.raises(RemoteSetupError) as caught:
                await kv.list_namespaces()
    finally:
        await store.close()
    assert str(caught.value).startswith("More than one account available")
    assert f"`other`: `{other.id}`" in str(caught.value)
    assert "`Local account`: `edeed0000000000000000000000000c1`" in str(caught.value)


async def test_retry_after_as_a_date_or_garbage(server: Server) -> None:
    import email.utils

    async with server.client() as kv:
        soon = email.utils.formatdate(time.time() + 30, usegmt=True)
        server.faults.plan = [(429, {"Retry-After": soon}), (429, {"Retry-After": "soon-ish"}),
                              (503, {"Retry-After": "nan"})]
        await kv.list_namespaces()
    assert 25 <= server.waits[0] <= 31 and server.waits[1:] == [1.0, 2.0]


async def test_unsuccessful_keys_are_sent_again(server: Server) -> None:
    """The API may report keys it could not write (``unsuccessful_keys``): they are retried."""
    import httpx

    app = server.faults.app
    resent: list[bytes] = []

    async def flaky(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http" or not scope["path"].endswith("/bulk") or scope["method"] != "PUT":
            await app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        resent.append(body)

        async def replay():  # type: ignore[no-untyped-def]
            return {"type": "http.request", "body": body, "more_body": False}

        async def rewrite(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.body" and len(resent) == 1:
                message = {**message, "body": json.dumps({
                    "success": True, "errors": [], "messages": [],
                    "result": {"successful_key_count": 1, "unsuccessful_keys": ["k00001"]}}).encode()}
            elif message["type"] == "http.response.start" and len(resent) == 1:
                message = {**message, "headers": [(b"content-type", b"application/json")]}
            await send(message)

        await app(scope, replay, rewrite)

    async with RemoteKV(server.settings(), transport=httpx.ASGITransport(app=flaky),
                        sleep=lambda s: _no_wait()) as kv:
        ns = (await kv.create_namespace("flaky")).id
        assert await kv.put_bulk(ns, _records(kv, ns, 3)) == 3
    assert len(resent) == 2 and [i["key"] for i in json.loads(resent[1])] == ["k00001"]


async def _no_wait() -> None:
    return None
