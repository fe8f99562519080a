"""The data explorer in headless Chromium, end to end: the page, edgekv's HTTP API and the
Worker of examples/counter, as a newcomer uses them. Each test saves screenshots of the
views it visits under its own ``tmp_path``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.explorer.conftest import EXPLORER, Page, Server

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201ffa0e3e0d90000000049454e44ae426082"
)


def wait_until(page: Any, expression: str, timeout_seconds: float = 10.0) -> None:
    """Poll ``expression`` in the page until it is truthy (``page.wait_for_function`` would
    evaluate a string inside the page, which the explorer's CSP, rightly, forbids)."""
    deadline = time.monotonic() + timeout_seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


def _seed(server: Server, count: int = 150) -> None:
    items = [{"key": f"user:{i:03d}", "value": json.dumps({"id": i}),
              "metadata": {"n": i}, "expiration_ttl": 86400 if i % 2 else None} for i in range(count)]
    for item in items:
        if item["expiration_ttl"] is None:
            del item["expiration_ttl"]
    assert server.http.put(server.v4("/bulk"), json=items).status_code == 200
    assert server.http.put(server.v4("/values/someKey"), content=b"hello").status_code == 200


def test_browse_search_sort_and_edit_a_value_the_worker_reads(dev_page: Page, dev_server: Server) -> None:
    _seed(dev_server)
    page = dev_page.page
    dev_page.open()
    row = page.locator("#namespaces tbody tr", has_text="NAMESPACE")
    row.locator("td.num", has_text="151").wait_for()
    dev_page.shot("namespaces")
    row.locator("a.ns-link").click()
    page.locator("#key-table").wait_for()
    assert page.locator("#key-table tbody tr").count() == 100  # one page
    page.locator("#next-page").click()
    page.locator("#key-table tbody tr", has_text="user:149").wait_for()
    assert page.locator("#key-table tbody tr").count() == 51  # someKey sorts first
    assert page.locator("#next-page").is_disabled()
    page.locator("#prev-page").click()
    page.locator("#key-table tbody tr", has_text="someKey").wait_for()
    # Search by prefix from the keyboard: "/" focuses the search box.
    page.locator("body").click()
    page.keyboard.press("/")
    page.keyboard.type("user:01")
    page.keyboard.press("Enter")
    page.locator("#key-table tbody tr", has_text="user:019").wait_for()
    assert page.locator("#key-table tbody tr").count() == 10
    page.select_option("#order", "desc")
    wait_until(page, "document.querySelector('#key-table tbody tr button')?.textContent === 'user:019'")
    first = page.locator("#key-table tbody tr").first
    assert "in 24 hours (20" in first.inner_text()  # relative and absolute expiration
    assert '{"n":19}' in first.inner_text()
    first.locator("button.key-name").click()
    page.locator("#value-text", has_text='"id": 19').wait_for()  # pretty JSON
    dev_page.shot("keys")
    # Open a value with the keyboard, then edit it.
    page.fill("#prefix", "some")
    page.keyboard.press("Enter")
    page.locator("button.key-name", has_text="someKey").focus()
    page.keyboard.press("Enter")
    page.locator("#value-text", has_text="hello").wait_for()
    assert page.locator("#value-size").inner_text().startswith("5 B")
    dev_page.shot("value")
    page.click("#edit-value")
    page.fill("#edit-value-text", "edited in the browser")
    page.click("#save-value")
    page.locator("#value-text", has_text="edited in the browser").wait_for()
    assert dev_server.http.get("/kv-object").text == "edited in the browser"  # the Worker sees it


def test_value_views_json_image_hex_and_large_values(dev_page: Page, dev_server: Server) -> None:
    http = dev_server.http
    http.put(dev_server.v4("/values/view:json"), content=b'{"a":[1,2]}')
    http.put(dev_server.v4("/values/view:png"), content=PNG_1x1)
    http.put(dev_server.v4("/values/view:bin"), content=bytes(range(200, 240)))
    http.put(dev_server.v4("/values/view:large"), content=b"x" * (3 * 1024 * 1024))
    page = dev_page.page
    dev_page.open(f"#/kv/{'4fdb2e0a1c9b4e7e8d3f5a6b7c8d9e0f'}")
    page.fill("#prefix", "view:")
    page.keyboard.press("Enter")
    page.locator("button.key-name", has_text="view:json").click()
    page.locator("#value-text", has_text='"a": [').wait_for()
    assert page.input_value("#view-mode") == "json"
    page.select_option("#view-mode", "text")
    page.locator("#value-text", has_text='{"a":[1,2]}').wait_for()
    page.locator("button.key-name", has_text="view:png").click()
    page.locator("#value-image").wait_for()
    wait_until(page, "document.querySelector('#value-image')?.naturalWidth === 1")
    page.locator("button.key-name", has_text="view:bin").click()
    page.locator("#value-hex", has_text="00000000  c8 c9 ca cb").wait_for()
    page.locator("button.key-name", has_text="view:large").click()
    page.locator("#load-whole").wait_for()
    assert page.locator("#value-size").inner_text().startswith("3.0 MiB")
    assert page.locator("#edit-value").is_disabled()
    page.click("#load-whole")
    page.locator("#value-text").wait_for()
    assert page.locator("#load-whole").count() == 0


def test_bulk_upload_download_and_delete_a_selection(dev_page: Page, dev_server: Server,
                                                     tmp_path: Path) -> None:
    page = dev_page.page
    dev_page.open("#/kv/4fdb2e0a1c9b4e7e8d3f5a6b7c8d9e0f")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"key": "bulk:ok", "value": "1"}, {"key": "bulk:ttl", "value": "x",
                               "expiration_ttl": 1}, {"key": "", "value": "y"}]))
    page.set_input_files("#bulk-file", str(bad))
    report = page.locator("#bulk-error")
    report.wait_for()
    text = report.inner_text()
    assert "Nothing was stored from bad.json" in text
    assert 'index 1 (key "bulk:ttl")' in text and 'index 2 (key "")' in text
    assert dev_server.http.get(dev_server.v4("/values/bulk:ok")).status_code == 404
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"key": f"bulk:{i}", "value": f"v{i}"} for i in range(3)]))
    page.set_input_files("#bulk-file", str(good))
    page.locator("#bulk-ok", has_text="Stored 3 key(s)").wait_for()
    page.fill("#prefix", "bulk:")
    page.keyboard.press("Enter")
    page.locator("#key-table tbody tr", has_text="bulk:2").wait_for()
    with page.expect_download() as download:
        page.click("#download")
    exported = json.loads(Path(download.value.path()).read_text())
    assert [item["key"] for item in exported] == ["bulk:0", "bulk:1", "bulk:2"]
    page.check('input[aria-label="Select bulk:0"]')
    page.check('input[aria-label="Select bulk:2"]')
    page.click("#delete-selected")
    page.locator("#confirm-text", has_text="Delete these 2 keys?").wait_for()
    dev_page.shot("confirm-delete")
    page.click("#confirm-ok")
    wait_until(page, "document.querySelectorAll('#key-table tbody tr').length === 1")
    assert dev_server.http.get(dev_server.v4("/values/bulk:0")).status_code == 404
    assert dev_server.http.get(dev_server.v4("/values/bulk:1")).text == "v1"
    # One key, from the value panel; cancelling first keeps it.
    page.locator("button.key-name", has_text="bulk:1").click()
    page.click("#delete-value")
    page.click("#confirm-cancel")
    assert dev_server.http.get(dev_server.v4("/values/bulk:1")).status_code == 200
    page.click("#delete-value")
    page.click("#confirm-ok")
    page.locator("#no-keys").wait_for()
    assert dev_server.http.get(dev_server.v4("/values/bulk:1")).status_code == 404


def test_stored_markup_is_shown_as_text_never_run(dev_page: Page, dev_server: Server) -> None:
    key = '<img src=x onerror="window.__xss=1">'
    value = b'<script>window.__xss=2</script><img src=x onerror="window.__xss=3">'
    files = {"value": ("v", value), "metadata": (None, json.dumps({"<b>": "<script>window.__xss=4</script>"}))}
    assert dev_server.http.put(dev_server.v4("/values/%3Cimg%20src%3Dx%20onerror%3D%22window.__xss%3D1%22%3E"),
                               files=files).status_code == 200
    page = dev_page.page
    dev_page.open("#/kv/4fdb2e0a1c9b4e7e8d3f5a6b7c8d9e0f")
    page.fill("#prefix", "<img")
    page.keyboard.press("Enter")
    page.locator("button.key-name").filter(has_text=key).click()
    page.locator("#value-text").wait_for()
    assert page.locator("#value-text").inner_text() == value.decode()
    assert page.locator("#value-key").inner_text() == key
    assert "<script>window.__xss=4</script>" in page.locator("#value-metadata").inner_text()
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    dev_page.shot("xss-as-text")


def test_durable_object_storage_edit_sql_console_and_alarms(dev_page: Page, dev_server: Server) -> None:
    http = dev_server.http
    http.get("/counter/newcomer")
    assert http.get("/counter/newcomer").text == "2"
    page = dev_page.page
    dev_page.open("#/do")
    page.locator("#do-namespaces a", has_text="COUNTER").click()
    page.locator("#objects a.object-link", has_text="newcomer").click()
    page.locator("#do-storage tr[data-key='count'] .do-value", has_text="2").wait_for()
    dev_page.shot("durable-object")
    page.locator("#do-storage tr[data-key='count'] .do-edit").click()
    page.fill("#do-value", "41")
    page.click("#do-save")
    page.locator("#do-storage tr[data-key='count'] .do-value", has_text="41").wait_for()
    assert http.get("/counter/newcomer").text == "42"  # the live object read the edit
    page.click("#do-new")
    page.fill("#do-key", "profile")
    page.fill("#do-value", '{"name": "<b>new</b>"}')
    page.click("#do-save")
    page.locator("#do-storage tr[data-key='profile'] .do-value", has_text='{"name":"<b>new</b>"}').wait_for()
    page.locator("#do-storage tr[data-key='profile'] .do-delete").click()
    page.click("#confirm-ok")
    page.locator("#do-storage tr[data-key='profile']").wait_for(state="detached")
    # More keys than one page: "Show more" continues the listing after the last key.
    object_id = page.url.split("/do/COUNTER/")[1].split("?")[0]
    api = f"/cdn-cgi/edgekv/explorer/api/do/namespaces/COUNTER/objects/{object_id}/kv"
    for i in range(120):
        assert http.put(f"{api}/item:{i:03d}", content=str(i).encode()).status_code == 200
    page.reload()
    page.locator("#do-more", has_text="100 shown").click()
    page.locator("#do-storage tr[data-key='item:119']").wait_for()
    assert page.locator("#do-storage tbody tr").count() == 121
    # SQL: the console is read-only unless writes are switched on.
    page.click("#tab-sql")
    page.fill("#sql-query", "CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('hi'); SELECT * FROM notes")
    page.click("#sql-run")
    page.locator("#sql-result", has_text="any change was rolled back").wait_for()
    assert page.locator("#sql-result-table td", has_text="hi").count() == 1
    page.reload()
    page.locator("#sql-run").wait_for()
    assert page.locator("#sql-tables").count() == 0
    page.check("#sql-write")
    page.fill("#sql-query", "CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('kept')")
    page.click("#sql-run")
    page.locator("#sql-result", has_text="read 0").wait_for()
    page.reload()
    page.locator("#sql-tables button", has_text="notes").click()
    page.locator("#rows-table td", has_text="kept").wait_for()
    dev_page.shot("sql")
    dev_page.open("#/do")
    page.locator("#do-namespaces").wait_for()
    assert page.locator("main", has_text="No alarm is set.").count() == 1


def test_locations_without_other_locations(dev_page: Page) -> None:
    dev_page.open("#/locations")
    dev_page.page.locator("#single-location", has_text="Single location").wait_for()


def test_error_states_server_down_and_missing_namespace(dev_page: Page) -> None:
    page = dev_page.page
    dev_page.open("#/kv/no-such-namespace")
    page.locator("main", has_text="Could not load the namespace").wait_for()
    assert page.locator("main", has_text="namespace not found").count() == 1
    page.route("**/explorer/api/**", lambda route: route.abort())  # the server "went down"
    page.reload()
    page.locator("#banner", has_text="Cannot reach the edgekv server").wait_for()
    dev_page.errors.clear()  # the aborted requests log network errors by design


def test_narrow_window_has_no_horizontal_scroll(browser: Any, dev_server: Server, tmp_path: Path) -> None:
    from tests.explorer.conftest import _new_page

    for tab in _new_page(browser, dev_server.url, tmp_path, viewport={"width": 390, "height": 800}):
        tab.open("#/kv/4fdb2e0a1c9b4e7e8d3f5a6b7c8d9e0f")
        tab.page.locator("#key-table").wait_for()
        tab.page.locator("button.key-name").first.click()
        tab.page.locator("#value-key").wait_for()
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        tab.shot("narrow")


# -- edgekv serve: tokens ----------------------------------------------------------------------


def test_token_login_read_only_and_admin(serve_page: Page, serve_server: Server) -> None:
    page = serve_page.page
    serve_page.open()
    page.locator("#login").wait_for()
    serve_page.shot("login")
    page.fill("#login-token", "not-a-token")
    page.click("#login button[type=submit]")
    page.locator("#login-error", has_text="refused").wait_for()
    # A read-only token sees a read-only explorer, and no Durable Objects.
    page.fill("#login-token", serve_server.tokens["read_only"])
    page.click("#login button[type=submit]")
    page.locator("#namespaces").wait_for()
    assert page.locator("#who").inner_text() == "token · read-only"
    assert page.locator("#new-ns").count() == 0 and page.locator("main", has_text="read-only").count() == 1
    page.locator("a.ns-link").first.click()
    page.locator("#download").wait_for()
    assert page.locator("#new-key").count() == 0 and page.locator("#upload").count() == 0
    page.click("a[data-view=do]")
    page.locator("#do-denied", has_text="token create --admin").wait_for()
    assert page.evaluate("sessionStorage.length") == 1 and page.evaluate("document.cookie") == ""
    page.click("#signout")
    page.locator("#login").wait_for()
    page.fill("#login-token", serve_server.tokens["admin"])
    page.click("#login button[type=submit]")
    page.locator("#who", has_text="admin").wait_for()
    page.click("a[data-view=do]")
    page.locator("#do-namespaces a", has_text="COUNTER").wait_for()
    assert EXPLORER in page.url


def test_create_rename_and_delete_a_namespace(dev_page: Page, dev_server: Server) -> None:
    page = dev_page.page
    dev_page.open()
    page.fill("#new-ns", "scratch <i>space</i>")
    page.keyboard.press("Enter")
    row = page.locator("#namespaces tbody tr", has_text="scratch <i>space</i>")
    row.wait_for()
    page.once("dialog", lambda dialog: dialog.accept("renamed"))
    row.locator("button", has_text="Rename").click()
    renamed = page.locator("#namespaces tbody tr", has_text="renamed")
    renamed.wait_for()
    renamed.locator("button", has_text="Delete").click()
    page.locator("#confirm-text", has_text='Delete the namespace "renamed"').wait_for()
    page.click("#confirm-ok")
    renamed.wait_for(state="detached")
    titles = [ns["title"] for ns in dev_server.http.get(
        "/cdn-cgi/edgekv/client/v4/accounts/edeed0000000000000000000000000c1/storage/kv/namespaces"
    ).json()["result"]]
    assert "renamed" not in titles and "scratch <i>space</i>" not in titles
