"""The explorer's page assets and API, in process (``edgekv.server.explorer``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx

from edgekv.server.explorer.objects import NEED_ADMIN
from tests.server.explorer.conftest import Explorer, MakeExplorer, X

PAGE = "/cdn-cgi/edgekv/explorer/"


# -- the page ----------------------------------------------------------------------------------


async def test_page_and_assets_are_served_with_a_strict_policy(dev: Explorer) -> None:
    redirect = await dev.get(PAGE.rstrip("/"))
    assert redirect.status_code == 308 and redirect.headers["location"] == PAGE
    page = await dev.get(PAGE)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="explorer.js">' in page.text
    script = await dev.get(PAGE + "explorer.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert ".innerHTML" not in script.text  # stored data is rendered with textContent only
    assert (await dev.get(PAGE + "explorer.css")).status_code == 200
    assert (await dev.get(PAGE + "nothing.js")).status_code == 404
    assert (await dev.get(f"{X}/nothing")).json()["errors"][0]["code"] == 7000


async def test_the_worker_keeps_its_routes(dev: Explorer) -> None:
    assert (await dev.get("/counter/a")).text == "1"
    assert (await dev.get("/explorer/")).status_code == 404  # only /cdn-cgi/edgekv/ is reserved


async def test_dev_refuses_cross_origin_writes(dev: Explorer) -> None:
    # CSRF: in edgekv dev the API is open, so a foreign page must not reach it through the
    # user's browser (LoopbackGuard); in edgekv serve there is no cookie to ride on.
    response = await dev.send("POST", dev.ns() + "/bulk", content=b"[]",
                              headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    response = await dev.send("PUT", dev.v4() + "/values/k", content=b"v",
                              headers={"Origin": "http://127.0.0.1:9999"})
    assert response.status_code == 403
    ok = await dev.send("PUT", dev.v4() + "/values/k", content=b"v",
                        headers={"Origin": "http://127.0.0.1:8787", "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200


# -- session and tokens ------------------------------------------------------------------------


async def test_session_in_dev_is_open_and_admin(dev: Explorer) -> None:
    session = (await dev.get(f"{X}/session")).json()["result"]
    assert session["read_only"] is False and session["admin"] is True
    assert session["credential"] is False and session["durable_objects"] is True
    assert session["accounts"][0]["id"] == dev.account


async def test_serve_requires_a_token_and_gates_durable_objects(make_explorer: MakeExplorer) -> None:
    served: Explorer = await make_explorer(serve=True)
    assert (await served.get(f"{X}/session")).status_code == 403
    bad = await served.get(f"{X}/session", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 403 and bad.json()["errors"][0]["code"] == 10000
    reader = await served.registry.create_token(served.account, read_only=True)
    writer = await served.registry.create_token(served.account)
    admin = await served.registry.create_token(served.account, admin=True)

    def auth(token: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {token.secret}"}  # type: ignore[attr-defined]

    session = (await served.get(f"{X}/session", headers=auth(reader))).json()["result"]
    assert session["read_only"] is True and session["durable_objects"] is False
    refused = await served.send("POST", served.ns() + "/bulk", content=b"[]", headers=auth(reader))
    assert refused.status_code == 403
    assert (await served.get(served.ns() + "/count", headers=auth(reader))).status_code == 200
    denied = await served.get(f"{X}/do/namespaces", headers=auth(writer))
    assert denied.status_code == 403 and denied.json()["errors"][0]["message"] == NEED_ADMIN
    allowed = await served.get(f"{X}/do/namespaces", headers=auth(admin))
    assert [ns["binding"] for ns in allowed.json()["result"]] == ["COUNTER", "KV_READER"]


# -- KV ----------------------------------------------------------------------------------------


async def _fill(dev: Explorer, count: int, prefix: str = "k") -> None:
    items = [{"key": f"{prefix}{i:03d}", "value": str(i)} for i in range(count)]
    response = await dev.send("PUT", dev.v4() + "/bulk", json=items)
    assert response.status_code == 200, response.text


async def test_count_is_cached_and_forgotten_after_an_upload(dev: Explorer) -> None:
    await _fill(dev, 25)
    assert (await dev.get(dev.ns() + "/count")).json()["result"]["count"] == 25
    await _fill(dev, 30)  # through the v4 API: the cached count stays for its TTL
    cached = (await dev.get(dev.ns() + "/count")).json()["result"]
    assert cached["count"] == 25 and cached["age_seconds"] >= 0
    fresh = (await dev.get(dev.ns() + "/count", params={"fresh": "1"})).json()["result"]
    assert fresh == {"count": 30, "age_seconds": 0.0}
    upload = await dev.send("POST", dev.ns() + "/bulk", content=b'[{"key": "z", "value": "1"}]')
    assert upload.status_code == 200
    assert (await dev.get(dev.ns() + "/count")).json()["result"]["count"] == 31  # forgotten


async def test_keys_in_descending_order_with_cursor_and_prefix(dev: Explorer) -> None:
    await _fill(dev, 25)
    await _fill(dev, 3, prefix="other")
    first = (await dev.get(dev.ns() + "/keys", params={"order": "desc", "limit": 10, "prefix": "k"})).json()
    assert [k["name"] for k in first["result"]] == [f"k{i:03d}" for i in range(24, 14, -1)]
    cursor = first["result_info"]["cursor"]
    assert base64.b64decode(cursor).decode() == "k015"
    rest: list[str] = []
    while cursor:
        page = (await dev.get(dev.ns() + "/keys", params={"order": "desc", "limit": 10,
                                                           "prefix": "k", "cursor": cursor})).json()
        rest += [k["name"] for k in page["result"]]
        cursor = page["result_info"]["cursor"]
    assert rest == [f"k{i:03d}" for i in range(14, -1, -1)]
    ascending = (await dev.get(dev.ns() + "/keys", params={"limit": 2})).json()["result"]
    assert [k["name"] for k in ascending] == ["k000", "k001"]


async def test_preview_is_truncated_and_shows_size_metadata_expiration(dev: Explorer) -> None:
    value = b"\x89PNG" + bytes(range(256)) * 400
    files = {"value": ("blob", value), "metadata": (None, '{"kind": "image"}')}
    put = await dev.send("PUT", dev.v4() + "/values/img%2Fa.png", files=files,
                         params={"expiration_ttl": 3600})
    assert put.status_code == 200, put.text
    shown = (await dev.get(dev.ns() + "/preview/img%2Fa.png", params={"bytes": 1024})).json()["result"]
    assert shown["key"] == "img/a.png" and shown["size"] == len(value)
    assert shown["truncated"] is True and base64.b64decode(shown["base64"]) == value[:1024]
    assert shown["metadata"] == {"kind": "image"} and shown["expiration"] > 0
    assert (await dev.get(dev.ns() + "/preview/missing")).status_code == 404


async def test_bulk_upload_lists_every_bad_item_and_stores_nothing(dev: Explorer) -> None:
    items = [{"key": "good", "value": "1"}, {"key": "ttl", "value": "x", "expiration_ttl": 5},
             {"key": "", "value": "x"}, {"key": "also-good", "value": "2"}]
    response = await dev.send("POST", dev.ns() + "/bulk", params={"filename": "data.json"},
                              content=json.dumps(items).encode())
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert message.startswith('Nothing was written: 2 item(s) in "data.json" cannot be stored.')
    assert "index 1 (key \"ttl\")" in message and "index 2 (key \"\")" in message
    assert (await dev.get(dev.ns() + "/count")).json()["result"]["count"] == 0
    shape = await dev.send("POST", dev.ns() + "/bulk", content=b'[{"key": 1}, "x"]')
    assert "The item at index 0 is {\"key\":1}\nThe item at index 1 is \"x\"" in shape.json()["errors"][0]["message"]
    ok = await dev.send("POST", dev.ns() + "/bulk",
                        content=b'[{"key": "a", "value": "1", "extra": true}]')
    assert ok.json()["result"]["successful_key_count"] == 1
    assert "unexpected properties" in ok.json()["messages"][0]["message"]


async def test_export_is_a_bulk_file_that_uploads_back(dev: Explorer) -> None:
    await _fill(dev, 3)
    await dev.send("PUT", dev.v4() + "/values/bin", content=b"\xff\x00")
    exported = await dev.get(dev.ns() + "/export")
    assert exported.headers["content-disposition"].startswith("attachment")
    items = json.loads(exported.content)
    assert items[0] == {"key": "bin", "value": base64.b64encode(b"\xff\x00").decode(), "base64": True}
    assert [i["key"] for i in items[1:]] == ["k000", "k001", "k002"]
    await dev.send("POST", dev.v4() + "/bulk/delete", json=["bin", "k000", "k001", "k002"])
    back = await dev.send("POST", dev.ns() + "/bulk", content=exported.content)
    assert back.json()["result"]["successful_key_count"] == 4
    assert (await dev.get(dev.v4() + "/values/bin")).content == b"\xff\x00"


# -- Durable Objects ---------------------------------------------------------------------------


async def test_objects_are_listed_with_their_names(dev: Explorer) -> None:
    assert (await dev.get("/counter/alice")).text == "1"
    assert (await dev.get("/counter/bob")).text == "1"
    objects = (await dev.get(f"{X}/do/namespaces/COUNTER/objects")).json()["result"]
    assert [o["name"] for o in objects] == ["alice", "bob"]
    by_name = (await dev.get(f"{X}/do/namespaces/COUNTER/id", params={"name": "alice"})).json()
    assert by_name["result"]["id"] == objects[0]["id"]
    assert (await dev.get(f"{X}/do/namespaces/NOPE/objects")).status_code == 404


async def test_an_edit_reaches_the_live_object(dev: Explorer) -> None:
    assert (await dev.get("/counter/a")).text == "1"  # the object is live now
    object_id = (await dev.get(f"{X}/do/namespaces/COUNTER/id", params={"name": "a"})).json()["result"]["id"]
    base = f"{X}/do/namespaces/COUNTER/objects/{object_id}"
    listed = (await dev.get(base + "/kv")).json()["result"]
    assert listed == [{"key": "count", "type": "json", "json": 1}]
    assert (await dev.send("PUT", base + "/kv/count", content=b"41")).status_code == 200
    assert (await dev.get("/counter/a")).text == "42"
    assert (await dev.get(base + "/kv/count")).json()["result"]["json"] == 42
    await dev.send("PUT", base + "/kv/note", content=json.dumps({"<b>": ["x", None]}).encode())
    assert (await dev.get(base + "/kv/note")).json()["result"]["json"] == {"<b>": ["x", None]}
    assert (await dev.send("DELETE", base + "/kv/note")).json()["result"] == {"deleted": True}
    assert (await dev.get(base + "/kv/note")).status_code == 404
    bad = await dev.send("PUT", base + "/kv/count", content=b"{nope")
    assert bad.status_code == 400


async def test_sql_tables_rows_and_a_read_only_console(dev: Explorer) -> None:
    await dev.get("/counter/a")
    object_id = (await dev.get(f"{X}/do/namespaces/COUNTER/id", params={"name": "a"})).json()["result"]["id"]
    base = f"{X}/do/namespaces/COUNTER/objects/{object_id}"
    create = {"query": "CREATE TABLE t(x, y); INSERT INTO t VALUES (1, 'one'), (2, x'ff')"}
    dry = (await dev.send("POST", base + "/sql", json=create)).json()["result"]
    assert dry["rolled_back"] is True
    assert (await dev.get(base + "/sql/tables")).json()["result"] == []
    wrote = await dev.send("POST", base + "/sql", json={**create, "write": True})
    assert wrote.status_code == 200, wrote.text
    assert (await dev.get(base + "/sql/tables")).json()["result"] == [{"name": "t", "type": "table", "rows": 2}]
    rows = (await dev.get(base + "/sql/tables/t")).json()["result"]
    assert rows == {"columns": ["x", "y"], "rows": [[1, "one"], [2, {"$bytes": "/w=="}]]}
    drop = (await dev.send("POST", base + "/sql", json={"query": "DROP TABLE t"})).json()["result"]
    assert drop["rolled_back"] is True
    assert len((await dev.get(base + "/sql/tables")).json()["result"]) == 1
    hidden = await dev.send("POST", base + "/sql", json={"query": "SELECT * FROM _cf_KV"})
    assert hidden.json()["errors"][0]["message"] == "access to _cf_KV.key is prohibited: SQLITE_AUTH"


async def test_alarms_and_object_description(dev: Explorer) -> None:
    runtime = dev.runtime.durable_objects
    ns = runtime.get_namespace("COUNTER")
    stub = ns.getByName("timer")
    await stub.fetch("http://x/")  # constructs it (and stores count=1)
    host = ns._host
    # The Counter class has no alarm handler: set an alarm through the scheduler directly.
    await runtime.alarms.set((host.unique_key, stub.id.toString()), 4_102_444_800_000, "timer")
    alarms = (await dev.get(f"{X}/do/alarms")).json()["result"]
    assert alarms == [{"binding": "COUNTER", "class_name": "Counter", "unique_key": "counter-Counter",
                       "id": stub.id.toString(), "name": "timer", "time_ms": 4_102_444_800_000,
                       "retry": 0}]
    described = (await dev.get(f"{X}/do/namespaces/COUNTER/objects/{stub.id.toString()}",
                               params={"name": "timer"})).json()["result"]
    assert described["alarm_ms"] == 4_102_444_800_000 and described["storage"] == "sqlite"
    assert described["name"] == "timer"


async def test_serve_without_a_worker_has_kv_but_no_durable_objects(tmp_path: Path) -> None:
    from edgekv.server.management import ManagementPaths, api_context, not_found_app
    from edgekv.storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'kv.sqlite3'}")
    ctx = api_context(store, open_without_credential=False)
    account = (await ctx.registry.create_account("solo")).account
    admin = await ctx.registry.create_token(account.id, admin=True)
    app = ManagementPaths(not_found_app, ctx, api_at_root=True)
    auth = {"Authorization": f"Bearer {admin.secret}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://kv.example.com") as http:
        assert (await http.get(PAGE)).status_code == 200  # the page itself holds no data
        session = (await http.get(f"{X}/session", headers=auth)).json()["result"]
        assert session["worker"] is None and session["durable_objects"] is False
        assert session["accounts"] == [{"id": account.id, "name": "solo"}]
        none = await http.get(f"{X}/do/namespaces", headers=auth)
        assert none.status_code == 404
        assert none.json()["errors"][0]["message"] == "this server runs no Worker, so it has no Durable Objects"
    await store.close()
