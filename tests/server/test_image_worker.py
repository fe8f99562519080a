"""A Worker with a dependency from its ``pyproject.toml`` (Pillow), under the DevServer.

Stands for python-workers-examples ``12-image-gen`` (Pillow draws a PNG; the Worker answers
``Response(to_js(image_bytes).buffer, headers=...)``): the dependency is resolved for
CPython into the project's state folder on first start, and reused on the next.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx

from edgekv.config import load_config
from edgekv.runtime.worker import WorkerRuntime
from edgekv.server.dev import DevServer

ENTRY = """\
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont
from pyodide.ffi import to_js
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        image = Image.new("RGB", (120, 40), (30, 60, 90))
        draw = ImageDraw.Draw(image)
        draw.rectangle([4, 4, 116, 36], outline=(255, 255, 255))
        draw.text((10, 12), "edgekv", fill=(255, 255, 0), font=ImageFont.load_default())
        out = BytesIO()
        image.save(out, format="PNG")
        return Response(to_js(out.getvalue()).buffer,
                        headers={"Content-Type": "image/png", "Cache-Control": "no-cache"})
"""

PYPROJECT = """\
[project]
name = "python-image-gen"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["pillow"]

[dependency-groups]
dev = ["workers-py", "workers-runtime-sdk"]
"""


async def test_pillow_worker_with_pyproject_dependencies(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(ENTRY)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "wrangler.jsonc").write_text(
        '{"name": "python-image-gen", "main": "src/entry.py",'
        ' "compatibility_date": "2025-11-02", "compatibility_flags": ["python_workers"]}')
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    state = config.state_paths()
    runtime = await WorkerRuntime.open(config, store_url=state.kv_url, do_store_url=state.do_url,
                                       state_dir=state.root)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = DevServer(runtime, host="127.0.0.1", port=0, on_ready=ready.set_result,
                       run_crons=False)
    serving = asyncio.create_task(server.serve())
    url = await asyncio.wait_for(ready, 10)
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
        from PIL import Image

        assert Image.open(io.BytesIO(response.content)).size == (120, 40)
        assert list((state.root / "python").glob("*/.edgekv-complete"))
    finally:
        server.stop()
        await asyncio.wait_for(serving, 10)
