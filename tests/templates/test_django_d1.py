"""A Django app whose database is D1, through django-cf's D1 engine, under a real ``edgekv dev``.

Stands for python-workers-examples ``19-django-todo-d1``: ``DATABASES["default"]`` is
``django_cf.db.backends.d1`` with ``CLOUDFLARE_BINDING = "DB"``, the entrypoint is
``class Default(DjangoCF, WorkerEntrypoint)`` with ``get_app()``, the schema comes from a
Wrangler D1 SQL migration (not ``manage.py migrate``), static assets sit in front of the Worker
with ``run_worker_first: ["/api/*"]``, and ``pyproject.toml`` lists ``django`` and
``django-cf`` (which edgekv installs for the running CPython; django-cf needs 3.12 or later,
so this runs on ``template_python``). The app below is our own, built the same way.

django-cf reads D1 synchronously from the Django view with ``pyodide.ffi.run_sync``
(edgekv.runtime.blocking). edgekv has no ``d1 migrations apply`` yet, so the test applies the
migration to the binding's SQLite file (``.edgekv/d1/<database_id>.sqlite3``) before start.
"""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.templates.conftest import DevServer

DATABASE_ID = "4f1d9c2e-0000-4000-8000-000000000019"

FILES = {
    "wrangler.jsonc": f"""\
        {{
          "name": "notes-d1",
          "main": "src/entry.py",
          "compatibility_date": "2026-07-29",
          "compatibility_flags": ["python_workers"],
          "assets": {{"directory": "./public", "run_worker_first": ["/api/*"]}},
          "d1_databases": [
            {{
              "binding": "DB",
              "database_name": "notes-d1",
              "database_id": "{DATABASE_ID}", // a local id
              "migrations_dir": "./migrations"
            }}
          ]
        }}
        """,
    "pyproject.toml": """\
        [project]
        name = "notes-d1"
        version = "0.1.0"
        requires-python = ">=3.13"
        dependencies = ["django", "django-cf==0.2.17"]
        """,
    "public/index.html": "<!doctype html><title>Notes</title>\n",
    "migrations/0001_notes.sql": """\
        CREATE TABLE IF NOT EXISTS notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            text VARCHAR(120) NOT NULL,
            done BOOLEAN NOT NULL DEFAULT 0,
            created DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
        """,
    "src/entry.py": """\
        import os

        from django_cf import DjangoCF
        from workers import WorkerEntrypoint

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_conf.settings")


        class Default(DjangoCF, WorkerEntrypoint):
            def get_app(self):
                from site_conf.wsgi import application

                return application
        """,
    "src/site_conf/__init__.py": "",
    "src/site_conf/settings.py": """\
        SECRET_KEY = "test-only"
        DEBUG = False
        ALLOWED_HOSTS = ["*"]
        ROOT_URLCONF = "site_conf.urls"
        INSTALLED_APPS = ["notes"]
        MIDDLEWARE = []
        USE_TZ = True
        TIME_ZONE = "UTC"
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        DATABASES = {
            "default": {"ENGINE": "django_cf.db.backends.d1", "CLOUDFLARE_BINDING": "DB"},
        }
        """,
    "src/site_conf/wsgi.py": """\
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
        """,
    "src/site_conf/urls.py": """\
        from django.urls import path

        from notes import views

        urlpatterns = [
            path("api/notes/", views.collection),
            path("api/notes/summary/", views.summary),
            path("api/notes/<int:pk>/", views.item),
        ]
        """,
    "src/notes/__init__.py": "",
    "src/notes/models.py": """\
        from django.db import models


        class Note(models.Model):
            text = models.CharField(max_length=120)
            done = models.BooleanField(default=False)
            created = models.DateTimeField(auto_now_add=True)

            class Meta:
                db_table = "notes"
        """,
    "src/notes/views.py": """\
        import json

        from django.db.models import Count, Q
        from django.http import HttpResponse, JsonResponse

        from .models import Note


        def as_json(note):
            return {"id": note.id, "text": note.text, "done": note.done,
                    "created": note.created.isoformat()}


        def collection(request):
            if request.method == "POST":
                data = json.loads(request.body)
                note = Note.objects.create(text=data["text"], done=data.get("done", False))
                return JsonResponse(as_json(note), status=201)
            notes = Note.objects.all()
            if "q" in request.GET:
                notes = notes.filter(text__icontains=request.GET["q"])
            return JsonResponse({"notes": [as_json(n) for n in notes.order_by("-id")]})


        def summary(request):
            done = Count("id", filter=Q(done=True))
            return JsonResponse(Note.objects.aggregate(total=Count("id"), done=done))


        def item(request, pk):
            note = Note.objects.filter(pk=pk).first()
            if note is None:
                return JsonResponse({"error": "no such note"}, status=404)
            if request.method == "PATCH":
                for field, value in json.loads(request.body).items():
                    setattr(note, field, value)
                note.save(update_fields=["text", "done"])
            elif request.method == "DELETE":
                deleted, _ = Note.objects.filter(pk=pk).delete()
                return HttpResponse(status=204 if deleted else 404)
            return JsonResponse(as_json(note))
        """,
}


def _make_project(root: Path) -> Path:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), "utf-8")
    # What `wrangler d1 migrations apply notes-d1 --local` does, on edgekv's D1 file.
    database = root / ".edgekv" / "d1" / f"{DATABASE_ID}.sqlite3"
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as conn:
        conn.executescript((root / "migrations" / "0001_notes.sql").read_text("utf-8"))
    conn.close()
    return database


def test_django_orm_on_d1_through_django_cf(template_python: Path, tmp_path: Path,
                                            dev_server: Callable[..., DevServer]) -> None:
    database = _make_project(tmp_path / "notes")
    server = dev_server(tmp_path / "notes", python=template_python)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert "<title>Notes</title>" in http.get("/").text  # the asset, not the Worker
        assert http.get("/api/notes/").json() == {"notes": []}
        milk = http.post("/api/notes/", json={"text": "Buy milk"})
        assert milk.status_code == 201
        assert milk.json()["id"] == 1 and milk.json()["done"] is False
        walk = http.post("/api/notes/", json={"text": "Walk the dog", "done": True}).json()
        assert walk["id"] == 2
        assert [n["text"] for n in http.get("/api/notes/").json()["notes"]] == [
            "Walk the dog", "Buy milk"]
        assert [n["id"] for n in http.get("/api/notes/", params={"q": "MILK"}).json()["notes"]
                ] == [1]
        assert http.get("/api/notes/summary/").json() == {"total": 2, "done": 1}
        patched = http.patch("/api/notes/1/", json={"done": True}).json()
        assert patched["done"] is True and patched["created"] == milk.json()["created"]
        assert http.get("/api/notes/summary/").json() == {"total": 2, "done": 2}
        assert http.delete("/api/notes/2/").status_code == 204
        missing = http.get("/api/notes/2/")
        assert (missing.status_code, missing.json()) == (404, {"error": "no such note"})
        assert http.delete("/api/notes/2/").status_code == 404
    server.stop()
    # Every write went through the D1 binding into its SQLite file.
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT id, text, done FROM notes").fetchall() == [
            (1, "Buy milk", 1)]
    conn.close()
    output = server.drain()
    assert any("PATCH /api/notes/1/ 200" in line for line in output), "\n".join(output)
    assert not any("Traceback" in line for line in output), "\n".join(output)
