"""Static assets in front of the Worker (edgekv.runtime.assets), through the ASGI app.

Cases follow Cloudflare's asset-worker behaviour (workers-sdk
``packages/workers-shared/asset-worker/src/handler.ts``: html handling, ETags, 304s,
not-found handling) and the router worker (``run_worker_first``, navigation requests).
"""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from tests.runtime.conftest import OpenProject

from edgekv.runtime.assets import content_type_for

WORKER = """\
from urllib.parse import urlparse
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/via-binding":
            return await self.env.ASSETS.fetch("http://x/page")
        if path == "/binding-request":
            return await self.env.ASSETS.fetch(request)
        return Response(f"worker {request.method} {path}")
"""

FILES = {
    "public/index.html": "<h1>home</h1>",
    "public/page.html": "<p>page</p>",
    "public/blog/index.html": "<p>blog</p>",
    "public/blog/404.html": "blog missing",
    "public/404.html": "missing",
    "public/app.js": "console.log(1)",
    "public/api/data.json": '{"a": 1}',
    "public/image.svg": "<svg/>",
    "public/secret.txt": "hidden by .assetsignore",
    "public/.assetsignore": "secret.txt\n",
    "public/_headers": "/app.js\n  X-Custom: yes\n  ! Cache-Control\n/blog/*\n  X-Blog: :splat\n",
    "public/_redirects": "/old /page 301\n/news/* /blog/:splat 302\n/rewrite /page.html 200\n",
}


def toml(**assets: Any) -> str:
    fields = ", ".join(
        f"{key} = {value!r}".replace("'", '"').replace("True", "true").replace("False", "false")
        for key, value in {"directory": "./public", "binding": "ASSETS", **assets}.items()
    )
    return textwrap.dedent(f"""\
        name = "assets"
        main = "src/entry.py"
        compatibility_date = "2026-11-01"
        compatibility_flags = ["python_workers"]
        assets = {{ {fields} }}
        """)


Open = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def open_client(worker_project: OpenProject) -> Open:
    async def factory(config: str, files: dict[str, str] = FILES,
                      entry: str = WORKER) -> httpx.AsyncClient:
        return await worker_project({"wrangler.toml": config, "src/entry.py": entry, **files})

    return factory


async def test_assets_served_in_front_of_the_worker(open_client: Open) -> None:
    # create-cloudflare template hello-world-with-assets: / is index.html, /message the Worker
    client = await open_client(toml())
    home = await client.get("/")
    assert (home.status_code, home.text) == (200, "<h1>home</h1>")
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    assert home.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert home.headers["etag"].startswith('"') and len(home.headers["etag"]) == 34
    worker = await client.get("/message")
    assert worker.text == "worker GET /message"


async def test_etag_if_none_match_answers_304(open_client: Open) -> None:
    client = await open_client(toml())
    first = await client.get("/app.js")
    etag = first.headers["etag"]
    again = await client.get("/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    weak = await client.get("/app.js", headers={"If-None-Match": "W/" + etag})
    assert weak.status_code == 304
    other = await client.get("/app.js", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.text == "console.log(1)"


async def test_auto_trailing_slash_html_handling(open_client: Open) -> None:
    client = await open_client(toml())
    assert (await client.get("/page")).text == "<p>page</p>"
    moved = await client.get("/page.html")
    assert (moved.status_code, moved.headers["location"]) == (307, "/page")
    assert (await client.get("/blog/")).text == "<p>blog</p>"
    slash = await client.get("/blog")
    assert (slash.status_code, slash.headers["location"]) == (307, "/blog/")
    index = await client.get("/blog/index.html")
    assert (index.status_code, index.headers["location"]) == (307, "/blog/")
    root = await client.get("/index.html")
    assert (root.status_code, root.headers["location"]) == (307, "/")


async def test_drop_and_force_trailing_slash(open_client: Open) -> None:
    client = await open_client(toml(html_handling="drop-trailing-slash"))
    dropped = await client.get("/blog/")
    assert (dropped.status_code, dropped.headers["location"]) == (307, "/blog")
    assert (await client.get("/blog")).text == "<p>blog</p>"
    force = await open_client(toml(html_handling="force-trailing-slash"))
    forced = await force.get("/page")
    assert (forced.status_code, forced.headers["location"]) == (307, "/page/")
    assert (await force.get("/page/")).text == "<p>page</p>"


async def test_html_handling_none_serves_exact_files_only(open_client: Open) -> None:
    client = await open_client(toml(html_handling="none"))
    assert (await client.get("/page.html")).text == "<p>page</p>"
    assert (await client.get("/page")).text == "worker GET /page"


async def test_content_types() -> None:
    # python-workers-examples tests/test_examples.py::test_06_assets and workers-shared
    # utils/tests/helpers.test.ts ("should return 'text/javascript")
    assert content_type_for("a.js") == "text/javascript; charset=utf-8"
    assert content_type_for("a.css") == "text/css; charset=utf-8"
    assert content_type_for("a.json") == "application/json"
    assert content_type_for("a.svg") == "image/svg+xml"
    assert content_type_for("a.jpg") == "image/jpeg"
    assert content_type_for("a.ico") == "image/vnd.microsoft.icon"
    assert content_type_for("a.unknownext") == "application/octet-stream"


async def test_env_assets_fetch(open_client: Open) -> None:
    # python-workers-examples 06-assets: the Worker answers with self.env.ASSETS.fetch(request)
    client = await open_client(toml(run_worker_first=True))
    assert (await client.get("/via-binding")).text == "<p>page</p>"
    assert (await client.get("/binding-request")).status_code == 404
    assert (await client.get("/app.js")).text == "worker GET /app.js"


async def test_run_worker_first_patterns(open_client: Open) -> None:
    client = await open_client(toml(run_worker_first=["/api/*", "!/api/data.json"]))
    assert (await client.get("/api/other")).text == "worker GET /api/other"
    assert (await client.get("/api/data.json")).json() == {"a": 1}
    assert (await client.get("/page")).text == "<p>page</p>"


async def test_single_page_application_for_navigation_requests(open_client: Open) -> None:
    client = await open_client(toml(not_found_handling="single-page-application"))
    nav = await client.get("/some/route", headers={"Sec-Fetch-Mode": "navigate"})
    assert (nav.status_code, nav.text) == (200, "<h1>home</h1>")
    fetched = await client.get("/some/route")
    assert fetched.text == "worker GET /some/route"


async def test_404_page_nearest_up_the_path(open_client: Open) -> None:
    client = await open_client(toml(not_found_handling="404-page"))
    nav = {"Sec-Fetch-Mode": "navigate"}
    blog = await client.get("/blog/missing/deep", headers=nav)
    assert (blog.status_code, blog.text) == (404, "blog missing")
    top = await client.get("/nothing", headers=nav)
    assert (top.status_code, top.text) == (404, "missing")


async def test_headers_and_redirects_files(open_client: Open) -> None:
    client = await open_client(toml())
    js = await client.get("/app.js")
    assert js.headers["x-custom"] == "yes" and "cache-control" not in js.headers
    blog = await client.get("/blog/")
    assert blog.headers["x-blog"] == ""
    moved = await client.get("/old?x=1")
    assert (moved.status_code, moved.headers["location"]) == (301, "/page?x=1")
    splat = await client.get("/news/2026")
    assert (splat.status_code, splat.headers["location"]) == (302, "/blog/2026")
    assert (await client.get("/rewrite")).text == "<p>page</p>"
    for hidden in ("/_headers", "/_redirects", "/secret.txt", "/.assetsignore"):
        assert (await client.get(hidden)).text.startswith("worker GET")


async def test_other_methods(open_client: Open) -> None:
    # asset-worker canFetch is true for an existing asset whatever the method: 405 there
    client = await open_client(toml())
    assert (await client.post("/page")).status_code == 405
    assert (await client.post("/form")).text == "worker POST /form"


async def test_head_has_no_body(open_client: Open) -> None:
    client = await open_client(toml())
    head = await client.head("/page")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len("<p>page</p>"))


async def test_path_traversal_is_not_served(open_client: Open) -> None:
    client = await open_client(toml())
    response = await client.get("/%2e%2e/wrangler.toml")
    assert "assets" not in response.text or response.text.startswith("worker")
