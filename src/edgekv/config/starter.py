"""The files of a new Python Worker project (``edgekv init``), in pywrangler's layout.

The same folder runs under ``edgekv dev`` and deploys with ``pywrangler deploy`` unchanged:
``wrangler.toml`` names ``src/entry.py`` and a KV binding *without* an id, which wrangler
provisions on the first deploy and edgekv keeps locally under the binding's name;
``pyproject.toml`` lists the Worker's dependencies in ``[project]`` and pywrangler's tools
in ``[dependency-groups]``, where pywrangler reads them.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

__all__ = ["STATE_GITIGNORE", "starter_config", "starter_files", "worker_name", "write_starter"]

#: Written into every state folder so its databases are never committed.
STATE_GITIGNORE = "# edgekv local state (KV and Durable Object data): never commit it\n*\n"

_ENTRY = '''\
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        visits = int(await self.env.KV.get("visits") or 0) + 1
        await self.env.KV.put("visits", str(visits))
        return Response(f"Hello from a Python Worker! Visit number {visits}.")
'''

_TEST = '''\
"""Tests in Cloudflare's in-Worker style, run by edgekv's pytest plugin: `pytest`."""


async def test_counts_visits(worker):
    first = await worker.get("/")
    second = await worker.get("/")
    assert first.status_code == 200
    assert first.text == "Hello from a Python Worker! Visit number 1."
    assert second.text == "Hello from a Python Worker! Visit number 2."


async def test_reads_what_the_namespace_holds(env, worker):
    await env.KV.put("visits", "41")
    assert (await worker.get("/")).text.endswith("Visit number 42.")
'''

_GITIGNORE = """\
.venv/
__pycache__/
.edgekv/
.wrangler/
python_modules/
.dev.vars*
.env*
"""

_README = """\
# {name}

A Python Worker with a KV namespace (`env.KV`).

```sh
edgekv dev                 # http://127.0.0.1:8787, reloads on save
pytest                     # the tests in tests/, with fresh storage each
```

Deploy to Cloudflare unchanged with `uv run pywrangler deploy` (wrangler creates the KV
namespace on the first deploy).
"""


def worker_name(folder: Path) -> str:
    """A Worker name from a folder name: lower case, ``a-z0-9-``, as wrangler requires."""
    name = re.sub(r"[^a-z0-9-]+", "-", folder.name.lower()).strip("-")
    return name or "my-worker"


def starter_config(name: str, today: datetime.date | None = None) -> str:
    """A ``wrangler.toml`` for a Python Worker with one KV binding."""
    date = (today or datetime.date.today()).isoformat()
    return (
        f'name = "{name}"\n'
        'main = "src/entry.py"\n'
        f'compatibility_date = "{date}"\n'
        'compatibility_flags = ["python_workers"]\n'
        "\n"
        "# No id: wrangler creates the namespace on the first deploy; edgekv keeps it locally.\n"
        '[[kv_namespaces]]\nbinding = "KV"\n'
    )


def starter_files(name: str, today: datetime.date | None = None) -> dict[str, str]:
    """Relative path -> text of every file of a new project."""
    return {
        "wrangler.toml": starter_config(name, today),
        "pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
            "dependencies = []\n\n"
            "[dependency-groups]\n"
            'dev = ["workers-py", "workers-runtime-sdk"]\n'
            'test = ["pytest"]\n\n'
            '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
        ),
        "src/entry.py": _ENTRY,
        "tests/test_entry.py": _TEST,
        ".gitignore": _GITIGNORE,
        "README.md": _README.format(name=name),
    }


def write_starter(folder: Path, name: str | None = None) -> list[Path]:
    """Write a new project into ``folder`` (created if missing). Raises ``FileExistsError``
    naming the first file that already exists; nothing is written then."""
    files = starter_files(name or worker_name(folder))
    existing = [folder / rel for rel in files if (folder / rel).exists()]
    if existing or any((folder / f).exists() for f in ("wrangler.json", "wrangler.jsonc")):
        raise FileExistsError(str(existing[0] if existing else folder / "wrangler.json*"))
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
