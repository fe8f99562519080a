"""`edgekv dev --log-level debug` shows the config file, the state folder, the watched paths
and each binding call."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cli.test_dev_command import DevProcess, free_port


def test_debug_log_names_files_and_binding_calls(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nmain = "entry.py"\ncompatibility_flags = ["python_workers"]\n'
        'kv_namespaces = [{ binding = "TODO", id = "todo-id" }]\n')
    (tmp_path / "entry.py").write_text(
        "from workers import Response, WorkerEntrypoint\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        await self.env.TODO.put('seen', 'yes')\n"
        "        return Response(await self.env.TODO.get('seen'))\n")
    port = free_port()
    server = DevProcess("--port", str(port), "--log-level", "debug", cwd=tmp_path)
    try:
        server.wait_for("Ready on")
        assert f"Config file: {tmp_path / 'wrangler.toml'}" in server.wait_for("Config file:")
        assert str(tmp_path / ".edgekv") in server.wait_for("State folder:")
        assert str(tmp_path) in server.wait_for("Watched for reloads:")
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text == "yes"
        assert "KV TODO.put('seen')" in server.wait_for("KV TODO.put")
        line = server.wait_for("KV TODO.get")
        assert "KV TODO.get('seen')" in line and line.rstrip().endswith("ms")
        assert server.interrupt() == 0
    finally:
        server.kill()
