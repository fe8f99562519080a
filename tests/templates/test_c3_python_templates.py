"""Every Python template of create-cloudflare 2.74.0 (``templates/*/py``), unchanged, under
``edgekv dev``, with the requests its README and pages make (``GET /``, and the
``/message`` and ``/random`` that the assets templates' ``index.html`` fetches).

The templates declare ``requires-python = ">=3.12"``/``">=3.13"`` (their Pyodide target), so
``edgekv dev`` runs here on a CPython they accept (``template_python``: 3.13 from
``scripts/install-python.sh``), not on the 3.11 running the tests; edgekv resolves their
``dependencies`` for that CPython.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from packaging.specifiers import SpecifierSet

from tests.templates.conftest import ROOT, DevServer, create_project

Check = Callable[[httpx.Client], None]


def _hello_world(http: httpx.Client) -> None:
    response = http.get("/")
    assert (response.status_code, response.text) == (200, "Hello World!")


def _hello_world_with_assets(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200 and "<title>Hello, World!</title>" in page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert http.get("/", headers={"If-None-Match": page.headers["etag"]}).status_code == 304
    assert http.get("/message").text == "Hello, World!"
    uuid.UUID(http.get("/random").text)
    missing = http.get("/nothing-here")
    assert (missing.status_code, missing.text) == (404, "Not Found")


def _durable_object(http: httpx.Client) -> None:
    assert http.get("/").text == "Hello, world!"


def _durable_object_with_assets(http: httpx.Client) -> None:
    assert "<title>Hello, World!</title>" in http.get("/").text
    assert http.get("/message").text == "Hello, world!"


def _django(http: httpx.Client) -> None:
    response = http.get("/")
    assert (response.status_code, response.text) == (
        200, "Hello from Django on Cloudflare Workers!")


def _fastapi(http: httpx.Client) -> None:
    assert http.get("/").json() == {"message": "Hello from FastAPI on Cloudflare Workers!"}
    assert http.get("/docs").status_code == 200


def _flask(http: httpx.Client) -> None:
    assert http.get("/").text == "Hello from Flask on Cloudflare Workers!"


TEMPLATES: dict[str, Check] = {
    "hello-world": _hello_world,
    "hello-world-with-assets": _hello_world_with_assets,
    "hello-world-durable-object": _durable_object,
    "hello-world-durable-object-with-assets": _durable_object_with_assets,
    "django": _django,
    "fastapi": _fastapi,
    "flask": _flask,
}


def test_every_python_template_is_covered(c3_templates: Path) -> None:
    shipped = sorted(p.parent.name for p in c3_templates.glob("*/py"))
    assert shipped == sorted(TEMPLATES)


def test_template_python_meets_every_requires_python(c3_templates: Path,
                                                    template_python: Path) -> None:
    """The interpreter ``edgekv dev`` runs on is one every template accepts, and edgekv is
    imported from this checkout there."""
    probe = ("import sys, edgekv; print('%d.%d.%d' % sys.version_info[:3]); "
             "print(edgekv.__file__)")
    done = subprocess.run([str(template_python), "-c", probe], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "src")}, timeout=60, check=True)
    version, module = done.stdout.split()
    assert Path(module).resolve().is_relative_to(ROOT / "src")
    for pyproject in sorted(c3_templates.glob("*/py/pyproject.toml")):
        wanted = tomllib.loads(pyproject.read_text("utf-8"))["project"]["requires-python"]
        assert SpecifierSet(wanted).contains(version), (pyproject, wanted, version)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_template_runs_unchanged(name: str, c3_templates: Path, template_python: Path,
                                 tmp_path: Path, dev_server: Callable[..., DevServer]) -> None:
    project = create_project(c3_templates / name / "py", tmp_path / name)
    server = dev_server(project, python=template_python)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        TEMPLATES[name](http)
    assert not any(re.search(r"Traceback|\[ERROR\]", line) for line in server.output)
