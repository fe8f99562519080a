"""A temporary Worker project (examples/counter plus a few routes) for the plugin's pytester tests.

Each test writes test files into ``pytester.path`` and runs pytest in a subprocess: the
Worker's modules, the ``workers`` shims and ``workers.env`` then never touch this process.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

WRANGLER_TOML = """\
name = "counter"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "NAMESPACE", id = "4fdb2e0a1c9b4e7e8d3f5a6b7c8d9e0f" }]

[vars]
MODE = "development"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[durable_objects.bindings]]
name = "KV_READER"
class_name = "KVReader"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter", "KVReader"]

[env.staging]
vars = { MODE = "staging" }
kv_namespaces = [{ binding = "NAMESPACE", id = "5ta9e5ta9e5ta9e5ta9e5ta9e5ta9e00" }]

[[env.staging.durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"
"""

# examples/counter's entry, plus routes for KV, vars, secrets and waitUntil.
ENTRY = '''\
import asyncio
from urllib.parse import urlsplit

from objects import Counter, KVReader
from workers import Response, WorkerEntrypoint

__all__ = ["Counter", "Default", "KVReader"]


async def put_later(kv, key):
    await asyncio.sleep(0.05)
    await kv.put(key, "written after the response")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path.startswith("/counter/") and len(path) > len("/counter/"):
            name = path.removeprefix("/counter/")
            return await self.env.COUNTER.getByName(name).fetch(request)
        if path == "/kv-object":
            return await self.env.KV_READER.getByName("reader").fetch(request)
        if path.startswith("/kv/"):
            return Response(await self.env.NAMESPACE.get(path.removeprefix("/kv/")) or "")
        if path.startswith("/later/"):
            self.ctx.waitUntil(put_later(self.env.NAMESPACE, path.removeprefix("/later/")))
            return Response("accepted", status=202)
        if path == "/mode":
            return Response(self.env.MODE)
        if path == "/secret":
            return Response(self.env.API_TOKEN)
        return Response("Not found: try /counter/NAME or /kv-object", status=404)
'''


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """``pytester.path`` holding the Worker project: wrangler.toml, .dev.vars, src/."""
    monkeypatch.delenv("CLOUDFLARE_ENV", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    root = pytester.path
    (root / "wrangler.toml").write_text(WRANGLER_TOML, encoding="utf-8")
    (root / ".dev.vars").write_text("API_TOKEN=from-dev-vars\n", encoding="utf-8")
    (root / "src").mkdir()
    shutil.copy(EXAMPLES / "counter" / "src" / "objects.py", root / "src" / "objects.py")
    (root / "src" / "entry.py").write_text(ENTRY, encoding="utf-8")
    return pytester


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
