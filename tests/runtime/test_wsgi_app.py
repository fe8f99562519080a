"""``workers.wsgi`` with real Flask and Django apps, and ``workers.asgi`` reading a GET body.

Stands for python-workers-examples ``18-django`` (a Django project behind
``wsgi.fetch(application, request, self.env)``) and the SDK's wsgi tests
(workers-py ``packages/runtime-sdk``: environ building, streaming, ``close()``).
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Awaitable, Callable

import httpx
import pytest
from tests.runtime.conftest import OpenProject

from edgekv.runtime.web.request import Request
from edgekv.runtime.wsgi_app import build_environ
from edgekv.runtime.wsgi_app import fetch as wsgi_fetch

TOML = """\
name = "wsgi"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
vars = { GREETING = "hi" }
"""

FLASK_ENTRY = """\
from flask import Flask, request, Response as FlaskResponse
from workers import WorkerEntrypoint, wsgi

app = Flask(__name__)

@app.route("/")
def index():
    return "Hello from Flask"

@app.route("/echo", methods=["POST"])
def echo():
    return {"got": request.get_json(), "env": request.environ["workers.env"].GREETING}

@app.route("/stream")
def stream():
    def chunks():
        for i in range(3):
            yield f"part{i};"
    return FlaskResponse(chunks(), mimetype="text/plain")

@app.route("/cookies")
def cookies():
    response = FlaskResponse("c")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response

@app.route("/q/<name>")
def q(name):
    return f"{name}|{request.args.get('x')}|{request.path}"

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await wsgi.fetch(app, request, self.env)
"""

DJANGO_FILES = {
    "src/entry.py": """\
        import os

        from workers import WorkerEntrypoint, wsgi

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hello_site.settings")

        from hello_site.wsgi import application


        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return await wsgi.fetch(application, request, self.env)
        """,
    "src/hello_site/__init__.py": "",
    "src/hello_site/settings.py": """\
        SECRET_KEY = "test-only"
        DEBUG = False
        ALLOWED_HOSTS = ["*"]
        ROOT_URLCONF = "hello_site.urls"
        INSTALLED_APPS = []
        MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
        DATABASES = {}
        USE_TZ = True
        """,
    "src/hello_site/urls.py": """\
        import json

        from django.http import HttpResponse, JsonResponse
        from django.urls import path
        from django.views.decorators.csrf import csrf_exempt


        def home(request):
            return HttpResponse("Hello from Django on Workers")


        @csrf_exempt
        def submit(request):
            return JsonResponse({"method": request.method,
                                 "body": json.loads(request.body or b"null")})


        urlpatterns = [path("", home), path("submit/", submit)]
        """,
    "src/hello_site/wsgi.py": """\
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
        """,
}

Open = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def open_client(worker_project: OpenProject) -> Open:
    async def factory(files: dict[str, str]) -> httpx.AsyncClient:
        texts = {"wrangler.toml": TOML, **files}
        return await worker_project({name: textwrap.dedent(text) for name, text in texts.items()})

    return factory


async def test_flask_app(open_client: Open) -> None:
    client = await open_client({"src/entry.py": FLASK_ENTRY})
    assert (await client.get("/")).text == "Hello from Flask"
    echoed = await client.post("/echo", json={"a": [1, 2]})
    assert echoed.json() == {"got": {"a": [1, 2]}, "env": "hi"}
    assert (await client.get("/stream")).text == "part0;part1;part2;"
    cookies = await client.get("/cookies")
    assert sorted(cookies.headers.get_list("set-cookie")) == ["a=1; Path=/", "b=2; Path=/"]
    quoted = await client.get("/q/caf%C3%A9?x=%20y")
    assert quoted.text == "café| y|/q/café"
    assert (await client.get("/missing")).status_code == 404


async def test_django_project(open_client: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    # python-workers-examples 18-django: settings module, urls, get_wsgi_application.
    # The Worker's os.environ.setdefault must not leak into later tests (or subprocesses).
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "hello_site.settings")
    client = await open_client(DJANGO_FILES)
    home = await client.get("/")
    assert (home.status_code, home.text) == (200, "Hello from Django on Workers")
    moved = await client.get("/submit")  # CommonMiddleware APPEND_SLASH
    assert moved.status_code == 301 and moved.headers["location"] == "/submit/"
    posted = await client.post("/submit/", json={"n": 1})
    assert posted.json() == {"method": "POST", "body": {"n": 1}}


def test_environ_shape() -> None:
    request = Request("https://example.com:8443/a%20b?x=%20", method="POST",
                      headers=[("X-Multi", "1"), ("X-Multi", "2"),
                               ("Content-Type", "text/plain")], body="abc")
    environ = build_environ(request, {"E": 1}, b"abc")
    assert environ["PATH_INFO"] == "/a b" and environ["QUERY_STRING"] == "x=%20"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.com", "8443")
    assert environ["HTTP_X_MULTI"] == "1,2" and environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "3" and environ["wsgi.url_scheme"] == "https"
    assert environ["workers.env"] == {"E": 1}


async def test_wsgi_close_called_and_streams_lazily() -> None:
    produced: list[int] = []
    closed: list[bool] = []

    class Body:
        def __iter__(self):  # type: ignore[no-untyped-def]
            for i in range(3):
                produced.append(i)
                yield f"{i}".encode()

        def close(self) -> None:
            closed.append(True)

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    response = await wsgi_fetch(app, Request("http://x/"), None)
    assert produced == [0]  # only the first chunk before the response is returned
    assert await response.text() == "012"
    assert closed == [True]


async def test_wsgi_without_start_response_raises() -> None:
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        return [b"x"]

    with pytest.raises(RuntimeError, match="did not call start_response"):
        await wsgi_fetch(app, Request("http://x/"), None)


async def test_asgi_app_reading_body_of_a_get_does_not_hang() -> None:
    from edgekv.runtime.asgi_app import fetch as asgi_fetch

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"len=%d" % len(body)})

    response = await asyncio.wait_for(asgi_fetch(app, Request("http://x/"), None), 5)
    assert await response.text() == "len=0"
    posted = await asyncio.wait_for(
        asgi_fetch(app, Request("http://x/", method="POST", body="abcd"), None), 5)
    assert await posted.text() == "len=4"


async def test_asgi_cancel_does_not_wait_on_a_stuck_app() -> None:
    from edgekv.runtime.asgi_app import fetch as asgi_fetch

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            return
        await asyncio.Event().wait()  # never answers

    task = asyncio.ensure_future(asgi_fetch(app, Request("http://x/"), None))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
