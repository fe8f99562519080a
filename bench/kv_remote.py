"""Benchmark a namespace backup and restore, locally and through the v4 API.

``edgekv kv namespace import`` then ``export`` of the same file run as real subprocesses
(``python -m edgekv``), first on the local store (the baseline), then with ``--remote``
against an ``edgekv serve`` subprocess on loopback (bulk writes of up to 10,000 items,
text values read 100 at a time with bulk get, the non-UTF-8 quarter one by one). Prints
wall times and the remote/local ratios.

    .venv/bin/python bench/kv_remote.py                 # 20,000 entries
    .venv/bin/python bench/kv_remote.py --entries 5000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def entries(count: int) -> list[dict[str, object]]:
    later = int(time.time()) + 86_400
    items: list[dict[str, object]] = []
    for i in range(count):
        item: dict[str, object] = {"key": f"bench/{i:07d}"}
        if i % 4 == 0:
            item["value"] = base64.b64encode(os.urandom(64)).decode()
            item["base64"] = True
        else:
            item["value"] = f"value {i} " + "x" * 100
        if i % 3 == 0:
            item["metadata"] = {"n": i}
        if i % 5 == 0:
            item["expiration"] = later
        items.append(item)
    return items


def edgekv(cwd: Path, env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "edgekv", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"edgekv {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def credentials(state: Path) -> tuple[str, str]:
    from edgekv.accounts import AccountRegistry
    from edgekv.storage import open_store

    async def make() -> tuple[str, str]:
        store = open_store(f"sqlite:///{state / 'kv.sqlite3'}")
        try:
            registry = AccountRegistry(store)
            account = (await registry.create_account("bench")).account
            return account.id, (await registry.create_token(account.id)).secret
        finally:
            await store.close()

    return asyncio.run(make())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=20_000)
    count = parser.parse_args().entries
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "seed.json").write_text(json.dumps(entries(count)))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_"))}
        local_import = edgekv(root, env, "kv", "namespace", "import", "seed.json", "bench")
        local_export = edgekv(root, env, "kv", "namespace", "export", "bench", "-o", "local.json")

        state = root / "served"
        state.mkdir()
        account, token = credentials(state)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "edgekv", "serve", "--port", str(port), "--persist-to",
             str(state), "--log-level", "warn"],
            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("edgekv serve did not start") from None
                    time.sleep(0.1)
            remote_env = {**env, "CLOUDFLARE_API_BASE_URL": f"http://127.0.0.1:{port}/client/v4",
                          "CLOUDFLARE_API_TOKEN": token, "CLOUDFLARE_ACCOUNT_ID": account}
            remote_import = edgekv(root, remote_env, "kv", "namespace", "import", "seed.json",
                                   "bench", "--remote")
            remote_export = edgekv(root, remote_env, "kv", "namespace", "export", "bench",
                                   "--remote", "-o", "remote.json")
        finally:
            server.terminate()
            server.wait(timeout=30)
        same = (root / "local.json").read_bytes() == (root / "remote.json").read_bytes()
    print(f"{count:,} entries (a quarter binary, a third with metadata, a fifth expiring)")
    print(f"import   local {local_import:6.2f} s   remote {remote_import:6.2f} s   "
          f"ratio {remote_import / local_import:5.2f}x")
    print(f"export   local {local_export:6.2f} s   remote {remote_export:6.2f} s   "
          f"ratio {remote_export / local_export:5.2f}x")
    print(f"exports identical: {same}")


if __name__ == "__main__":
    main()
