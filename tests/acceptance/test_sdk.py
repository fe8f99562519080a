"""Cloudflare's official Python SDK (``cloudflare==5.9.0``, unmodified) against a live edgekv
API server, with real tokens.

Covers every KV method of the SDK (namespaces create/list/get/update/delete, bulk_update,
bulk_delete, bulk_get, keys.list, values.update/get/delete, metadata.get, and the
deprecated ``keys.bulk_*`` aliases), the SDK's own auto-pagination (page numbers for
namespaces, cursors for keys), binary values, metadata, expirations, and the errors the SDK
raises (``NotFoundError`` with the envelope's code 10009 / 10013, ``PermissionDeniedError``
with 10000, ``BadRequestError``).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.acceptance.conftest import LiveServer, edgekv, missing, shown_once

try:
    import cloudflare
    from cloudflare import Cloudflare
except ImportError:  # pragma: no cover - the test extra installs it
    cloudflare = None  # type: ignore[assignment]

SDK_VERSION = "5.9.0"


@pytest.fixture(scope="module")
def sdk_client(live_server: LiveServer) -> Cloudflare:
    if cloudflare is None:
        missing("the cloudflare SDK is not installed (pip install -e '.[test]')")
    if cloudflare.__version__ != SDK_VERSION:
        missing(f"cloudflare {SDK_VERSION} is pinned, {cloudflare.__version__} is installed")
    return Cloudflare(api_token=live_server.token, base_url=live_server.base_url, max_retries=0)


@pytest.fixture
def client(sdk_client: Cloudflare) -> Cloudflare:
    return sdk_client


@pytest.fixture
def ns(client: Cloudflare, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace, deleted afterwards."""
    title = f"sdk-{request.node.name}-{time.monotonic_ns()}"[:500]
    created = client.kv.namespaces.create(account_id=live_server.account, title=title)
    assert created is not None
    yield created.id
    client.kv.namespaces.delete(created.id, account_id=live_server.account)


def error_code(exc: cloudflare.APIStatusError) -> int:
    body: Any = exc.body
    return int(body["errors"][0]["code"])


def test_spec_recipe(client: Cloudflare, live_server: LiveServer) -> None:
    """The SDK recipe of the REST API documentation, step by step."""
    a = live_server.account
    ns = client.kv.namespaces.create(account_id=a, title="t1-recipe")
    assert ns is not None and ns.title == "t1-recipe" and len(ns.id) == 32
    client.kv.namespaces.values.update("k/1", account_id=a, namespace_id=ns.id, value=b"v",
                                       metadata={"m": 1}, expiration_ttl=120)
    assert client.kv.namespaces.values.get("k/1", account_id=a, namespace_id=ns.id).read() == b"v"
    assert client.kv.namespaces.metadata.get("k/1", account_id=a, namespace_id=ns.id) == {"m": 1}
    client.kv.namespaces.bulk_update(ns.id, account_id=a,
                                     body=[{"key": "b", "value": "aGk=", "base64": True}])
    names = [k.name for k in client.kv.namespaces.keys.list(ns.id, account_id=a)]
    assert names == ["b", "k/1"]
    got = client.kv.namespaces.bulk_get(ns.id, account_id=a, keys=["b", "nope"], with_metadata=True)
    assert got is not None
    assert got.to_dict()["values"] == {"b": {"value": "hi", "metadata": None}, "nope": None}
    client.kv.namespaces.bulk_delete(ns.id, account_id=a, body=["b"])
    assert [k.name for k in client.kv.namespaces.keys.list(ns.id, account_id=a)] == ["k/1"]
    client.kv.namespaces.delete(ns.id, account_id=a)
    with pytest.raises(cloudflare.NotFoundError) as caught:
        client.kv.namespaces.get(ns.id, account_id=a)
    assert error_code(caught.value) == 10013


def test_namespaces_crud_and_auto_pagination(client: Cloudflare, live_server: LiveServer) -> None:
    a = live_server.account
    before = {n.id for n in client.kv.namespaces.list(account_id=a, per_page=100)}
    created = [client.kv.namespaces.create(account_id=a, title=f"pages-{i:03d}") for i in range(45)]
    ids = {n.id for n in created if n is not None}
    try:
        # The SDK asks for page 1, 2, 3... until a page comes back empty.
        page = client.kv.namespaces.list(account_id=a, per_page=20, order="title", direction="asc")
        pages = list(page.iter_pages())
        listed = [n for p in pages for n in p.result]
        assert len(listed) == len(before) + 45
        mine = [n.title for n in listed if n.id in ids]
        assert mine == [f"pages-{i:03d}" for i in range(45)]
        assert len(pages) >= 3 and all(len(p.result) <= 20 for p in pages)
        titles = [n.title for n in listed]
        assert titles == sorted(titles)
        # Without per_page the SDK relies on the server's default (20 per page).
        assert {n.id for n in client.kv.namespaces.list(account_id=a)} == before | ids
        desc = [n.title for n in client.kv.namespaces.list(account_id=a, per_page=50,
                                                           order="title", direction="desc")]
        assert desc == sorted(desc, reverse=True)

        one = created[7]
        assert one is not None
        got = client.kv.namespaces.get(one.id, account_id=a)
        assert (got.id, got.title) == (one.id, "pages-007")
        renamed = client.kv.namespaces.update(one.id, account_id=a, title="pages-renamed")
        assert renamed is not None and renamed.title == "pages-renamed"
        assert client.kv.namespaces.get(one.id, account_id=a).title == "pages-renamed"

        with pytest.raises(cloudflare.BadRequestError) as caught:
            client.kv.namespaces.create(account_id=a, title="pages-001")
        assert error_code(caught.value) == 10014
    finally:
        for ident in ids:
            client.kv.namespaces.delete(ident, account_id=a)
    assert {n.id for n in client.kv.namespaces.list(account_id=a, per_page=100)} == before


def test_keys_auto_pagination_over_2500_keys(client: Cloudflare, live_server: LiveServer,
                                             ns: str) -> None:
    a = live_server.account
    keys = [f"key-{i:05d}" for i in range(2500)]
    result = client.kv.namespaces.bulk_update(
        ns, account_id=a, body=[{"key": k, "value": f"v{i}"} for i, k in enumerate(keys)])
    assert result is not None and result.successful_key_count == 2500
    assert result.unsuccessful_keys == []
    listing = client.kv.namespaces.keys.list(ns, account_id=a)
    pages = list(listing.iter_pages())
    assert [len(p.result) for p in pages] == [1000, 1000, 500]
    assert [k.name for p in pages for k in p.result] == keys
    # Iterating the first page follows the cursors by itself.
    assert [k.name for k in client.kv.namespaces.keys.list(ns, account_id=a)] == keys
    small = client.kv.namespaces.keys.list(ns, account_id=a, prefix="key-024", limit=30)
    assert [k.name for k in small] == [f"key-{i:05d}" for i in range(2400, 2500)]
    assert list(client.kv.namespaces.keys.list(ns, account_id=a, prefix="none")) == []


def test_binary_values(client: Cloudflare, live_server: LiveServer, ns: str) -> None:
    a = live_server.account
    blob = bytes(range(256)) * 64
    client.kv.namespaces.values.update("bin", account_id=a, namespace_id=ns, value=blob)
    got = client.kv.namespaces.values.get("bin", account_id=a, namespace_id=ns)
    assert got.read() == blob
    assert got.headers["content-type"] == "application/octet-stream"
    assert "expiration" not in got.headers
    raw = bytes([0, 255, 254, 10, 13, 0])
    client.kv.namespaces.bulk_update(ns, account_id=a, body=[
        {"key": "b64", "value": base64.b64encode(raw).decode(), "base64": True},
        {"key": "text", "value": "héllo ✓"},
    ])
    assert client.kv.namespaces.values.get("b64", account_id=a, namespace_id=ns).read() == raw
    assert client.kv.namespaces.values.get("text", account_id=a,
                                           namespace_id=ns).read() == "héllo ✓".encode()
    big = bytes(range(256)) * 8192 + b"\xff"  # 2 MiB and a byte
    client.kv.namespaces.values.update("big", account_id=a, namespace_id=ns, value=big)
    assert client.kv.namespaces.values.get("big", account_id=a, namespace_id=ns).read() == big
    # An empty value is a value.
    client.kv.namespaces.values.update("empty", account_id=a, namespace_id=ns, value=b"")
    assert client.kv.namespaces.values.get("empty", account_id=a, namespace_id=ns).read() == b""


def test_key_names_are_percent_encoded_by_the_sdk(client: Cloudflare, live_server: LiveServer,
                                                  ns: str) -> None:
    a = live_server.account
    names = ["a/b?c d", "100%", "ünï/cødé", "#hash&amp=1", "..x", "a+b"]
    for i, name in enumerate(names):
        client.kv.namespaces.values.update(name, account_id=a, namespace_id=ns,
                                           value=str(i).encode(), metadata={"i": i})
    for i, name in enumerate(names):
        assert client.kv.namespaces.values.get(name, account_id=a,
                                               namespace_id=ns).read() == str(i).encode()
        assert client.kv.namespaces.metadata.get(name, account_id=a, namespace_id=ns) == {"i": i}
    listed = [k.name for k in client.kv.namespaces.keys.list(ns, account_id=a)]
    assert listed == sorted(names, key=lambda n: n.encode())
    for name in names:
        client.kv.namespaces.values.delete(name, account_id=a, namespace_id=ns)
    assert list(client.kv.namespaces.keys.list(ns, account_id=a)) == []


def test_metadata(client: Cloudflare, live_server: LiveServer, ns: str) -> None:
    a = live_server.account
    meta = {"s": "x", "n": 1.5, "l": [1, None, True], "o": {"deep": "ü"}}
    client.kv.namespaces.values.update("m", account_id=a, namespace_id=ns, value=b"1", metadata=meta)
    assert client.kv.namespaces.metadata.get("m", account_id=a, namespace_id=ns) == meta
    client.kv.namespaces.values.update("plain", account_id=a, namespace_id=ns, value=b"2")
    assert client.kv.namespaces.metadata.get("plain", account_id=a, namespace_id=ns) is None
    listed = {k.name: k for k in client.kv.namespaces.keys.list(ns, account_id=a)}
    assert listed["m"].metadata == meta
    assert listed["plain"].metadata is None
    # Overwriting without metadata drops the old metadata (the SDK sends only `value`).
    client.kv.namespaces.values.update("m", account_id=a, namespace_id=ns, value=b"3")
    assert client.kv.namespaces.metadata.get("m", account_id=a, namespace_id=ns) is None
    got = client.kv.namespaces.bulk_get(ns, account_id=a, keys=["plain"], with_metadata=True)
    assert got is not None and got.to_dict()["values"] == {"plain": {"value": "2", "metadata": None}}
    # Metadata over 1024 bytes is refused with the service's 413.
    with pytest.raises(cloudflare.APIStatusError) as caught:
        client.kv.namespaces.values.update("big", account_id=a, namespace_id=ns, value=b"x",
                                           metadata={"k": "x" * 1100})
    assert caught.value.status_code == 413
    assert caught.value.body["errors"][0]["message"] == (  # type: ignore[index]
        "Metadata length of 1108 exceeds limit of 1024.")


def test_expirations(client: Cloudflare, live_server: LiveServer, ns: str) -> None:
    a = live_server.account
    now = int(time.time())
    client.kv.namespaces.values.update("ttl", account_id=a, namespace_id=ns, value=b"t",
                                       expiration_ttl=120)
    at = now + 3600
    client.kv.namespaces.values.update("abs", account_id=a, namespace_id=ns, value=b"a",
                                       expiration=at, metadata={"x": 1})
    got = client.kv.namespaces.values.get("ttl", account_id=a, namespace_id=ns)
    assert now + 119 <= int(got.headers["expiration"]) <= int(time.time()) + 121
    assert client.kv.namespaces.values.get("abs", account_id=a,
                                           namespace_id=ns).headers["expiration"] == str(at)
    listed = {k.name: k for k in client.kv.namespaces.keys.list(ns, account_id=a)}
    assert listed["abs"].expiration == at
    assert listed["ttl"].expiration is not None
    client.kv.namespaces.bulk_update(ns, account_id=a, body=[
        {"key": "bulk-ttl", "value": "b", "expiration_ttl": 600, "metadata": {"b": True}}])
    got_bulk = client.kv.namespaces.bulk_get(ns, account_id=a, keys=["bulk-ttl", "abs"],
                                             with_metadata=True)
    assert got_bulk is not None
    values = got_bulk.to_dict()["values"]
    assert values["abs"] == {"value": "a", "metadata": {"x": 1}, "expiration": at}
    assert values["bulk-ttl"]["metadata"] == {"b": True}
    assert now + 599 <= values["bulk-ttl"]["expiration"] <= int(time.time()) + 601
    with pytest.raises(cloudflare.BadRequestError) as caught:
        client.kv.namespaces.values.update("short", account_id=a, namespace_id=ns, value=b"s",
                                           expiration_ttl=59)
    assert caught.value.body["errors"][0]["message"] == (  # type: ignore[index]
        "Invalid expiration_ttl of 59. Expiration TTL must be at least 60.")


def test_bulk_get_types(client: Cloudflare, live_server: LiveServer, ns: str) -> None:
    a = live_server.account
    client.kv.namespaces.bulk_update(ns, account_id=a, body=[
        {"key": "j1", "value": '{"a": [1, 2]}'}, {"key": "j2", "value": "3"}])
    got = client.kv.namespaces.bulk_get(ns, account_id=a, keys=["j1", "j2", "zz"], type="json")
    assert got is not None and got.to_dict()["values"] == {"j1": {"a": [1, 2]}, "j2": 3, "zz": None}
    text = client.kv.namespaces.bulk_get(ns, account_id=a, keys=["j2"], type="text")
    assert text is not None and text.to_dict()["values"] == {"j2": "3"}


def test_deprecated_keys_bulk_aliases(client: Cloudflare, live_server: LiveServer, ns: str) -> None:
    a = live_server.account
    with pytest.warns(DeprecationWarning):
        client.kv.namespaces.keys.bulk_update(ns, account_id=a,
                                              body=[{"key": "x", "value": "1"},
                                                    {"key": "y", "value": "2"}])
    with pytest.warns(DeprecationWarning):
        got = client.kv.namespaces.keys.bulk_get(ns, account_id=a, keys=["x", "y"])
    assert got is not None and got.to_dict()["values"] == {"x": "1", "y": "2"}
    with pytest.warns(DeprecationWarning):
        deleted = client.kv.namespaces.keys.bulk_delete(ns, account_id=a, body=["x"])
    assert deleted is not None and deleted.successful_key_count == 1
    assert [k.name for k in client.kv.namespaces.keys.list(ns, account_id=a)] == ["y"]


def test_not_found_errors(client: Cloudflare, live_server: LiveServer, ns: str) -> None:
    a = live_server.account
    with pytest.raises(cloudflare.NotFoundError) as caught:
        client.kv.namespaces.values.get("missing", account_id=a, namespace_id=ns)
    assert caught.value.status_code == 404
    assert caught.value.body == {  # the envelope, as the SDK hands it over
        "success": False, "result": None, "messages": [],
        "errors": [{"code": 10009, "message": "get: 'key not found'"}]}
    with pytest.raises(cloudflare.NotFoundError) as caught:
        client.kv.namespaces.metadata.get("missing", account_id=a, namespace_id=ns)
    assert error_code(caught.value) == 10009
    unknown = "0" * 32
    with pytest.raises(cloudflare.NotFoundError) as caught:
        client.kv.namespaces.values.get("k", account_id=a, namespace_id=unknown)
    assert error_code(caught.value) == 10013
    with pytest.raises(cloudflare.NotFoundError) as caught:
        list(client.kv.namespaces.keys.list(unknown, account_id=a))
    assert error_code(caught.value) == 10013
    # Deleting a key that does not exist succeeds, as on Cloudflare.
    client.kv.namespaces.values.delete("missing", account_id=a, namespace_id=ns)


def test_tokens_decide_what_the_sdk_may_do(client: Cloudflare, live_server: LiveServer,
                                           ns: str) -> None:
    a = live_server.account
    client.kv.namespaces.values.update("k", account_id=a, namespace_id=ns, value=b"v")
    reader = Cloudflare(api_token=live_server.token_for("--read-only"),
                        base_url=live_server.base_url, max_retries=0)
    assert reader.kv.namespaces.values.get("k", account_id=a, namespace_id=ns).read() == b"v"
    assert [k.name for k in reader.kv.namespaces.keys.list(ns, account_id=a)] == ["k"]
    with pytest.raises(cloudflare.PermissionDeniedError) as caught:
        reader.kv.namespaces.values.update("k", account_id=a, namespace_id=ns, value=b"w")
    assert error_code(caught.value) == 10000
    with pytest.raises(cloudflare.PermissionDeniedError):
        reader.kv.namespaces.create(account_id=a, title="not-allowed")

    # A token limited to one namespace sees nothing else.
    other = client.kv.namespaces.create(account_id=a, title=f"other-{time.monotonic_ns()}")
    assert other is not None
    try:
        scoped = Cloudflare(api_token=live_server.token_for("--namespace", ns),
                            base_url=live_server.base_url, max_retries=0)
        assert scoped.kv.namespaces.values.get("k", account_id=a, namespace_id=ns).read() == b"v"
        with pytest.raises(cloudflare.PermissionDeniedError):
            scoped.kv.namespaces.values.get("k", account_id=a, namespace_id=other.id)
    finally:
        client.kv.namespaces.delete(other.id, account_id=a)

    # The global API key (X-Auth-Email + X-Auth-Key) works too; a wrong one does not.
    keyed = Cloudflare(api_email=live_server.email, api_key=live_server.api_key,
                       base_url=live_server.base_url, max_retries=0)
    assert keyed.kv.namespaces.values.get("k", account_id=a, namespace_id=ns).read() == b"v"
    wrong = Cloudflare(api_token="not-a-token", base_url=live_server.base_url, max_retries=0)
    with pytest.raises(cloudflare.APIStatusError) as caught_any:
        wrong.kv.namespaces.values.get("k", account_id=a, namespace_id=ns)
    assert caught_any.value.status_code in (400, 401, 403)
    # Another account's id is refused without telling whether it exists.
    with pytest.raises(cloudflare.PermissionDeniedError):
        client.kv.namespaces.list(account_id="f" * 32)


def test_env_configuration(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``CLOUDFLARE_BASE_URL`` + ``CLOUDFLARE_API_TOKEN`` point an unconfigured client here."""
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", live_server.base_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", live_server.token)
    client = Cloudflare(max_retries=0)
    titles = [n.title for n in client.kv.namespaces.list(account_id=live_server.account)]
    assert isinstance(titles, list)
    # The /cdn-cgi/edgekv/client/v4 mount answers the same API.
    client2 = Cloudflare(base_url=f"{live_server.url}/cdn-cgi/edgekv/client/v4", max_retries=0)
    assert [n.title for n in client2.kv.namespaces.list(account_id=live_server.account)] == titles


def test_a_revoked_token_stops_working_at_once(client: Cloudflare, live_server: LiveServer,
                                               ns: str) -> None:
    """``edgekv token create`` / ``revoke`` while the server runs: the next call is refused."""
    created = edgekv("token", "create", "--account", live_server.account, "--persist-to",
                     str(live_server.state), "--expires-in", "1h")
    token_id = re.search(r"token ([0-9a-f]{32}) for account", created).group(1)  # type: ignore[union-attr]
    short_lived = Cloudflare(api_token=shown_once(created), base_url=live_server.base_url,
                             max_retries=0)
    short_lived.kv.namespaces.values.update("r", account_id=live_server.account,
                                            namespace_id=ns, value=b"1")
    assert client.kv.namespaces.values.get("r", account_id=live_server.account,
                                           namespace_id=ns).read() == b"1"
    edgekv("token", "revoke", token_id, "--persist-to", str(live_server.state))
    with pytest.raises(cloudflare.PermissionDeniedError) as caught:
        short_lived.kv.namespaces.values.get("r", account_id=live_server.account, namespace_id=ns)
    assert error_code(caught.value) == 10000
