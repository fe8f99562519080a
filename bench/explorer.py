"""The data explorer at 1,000,000 keys: page and count latencies through the real ASGI apps.

    .venv/bin/python -P bench/explorer.py [--keys 1000000]   # -P: bench/http.py is not http

Fills one namespace of a SQLite store (in a temporary folder), then times, in process
through httpx's ASGI transport (no sockets, so the figures are the server's own work):
the v4 first page and a next page (ascending, what the explorer shows), the explorer's
descending first and next pages, a prefix search, a value preview, and the key count
(first computed, then from the cache). Baseline: a raw ``sqlite3`` page of 100 keys on the
same file, measured in the same run; ratios are printed against it. The issue's budget is
300 ms per page.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from edgekv.server.management import ManagementPaths, api_context, not_found_app
from edgekv.storage import LOCAL_ACCOUNT_ID, Record, open_store


async def main(keys: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="edgekv-bench-explorer-"))
    path = folder / "kv.sqlite3"
    store = open_store(f"sqlite:///{path}")
    ctx = api_context(store, open_without_credential=True)
    await ctx.registry.ensure_local_account()
    ns = "0" * 32
    await store.create_namespace(ns, "bench", LOCAL_ACCOUNT_ID)
    started = time.perf_counter()
    batch = 50_000
    for start in range(0, keys, batch):
        await store.write_batch(ns, (Record(f"key:{i:08d}", b"v" * 100, None, '{"i":1}')
                                     for i in range(start, min(start + batch, keys))))
    print(f"filled {keys:,} keys in {time.perf_counter() - started:.1f} s")
    app = ManagementPaths(not_found_app, ctx)
    v4 = f"/cdn-cgi/edgekv/client/v4/accounts/{LOCAL_ACCOUNT_ID}/storage/kv/namespaces/{ns}"
    x = f"/cdn-cgi/edgekv/explorer/api/accounts/{LOCAL_ACCOUNT_ID}/namespaces/{ns}"

    raw = sqlite3.connect(path)

    def raw_page() -> None:
        raw.execute("SELECT key, expiration, metadata FROM entries WHERE space = "
                    "(SELECT id FROM spaces WHERE name = ?) AND key > ? ORDER BY key LIMIT 100",
                    (ns, "key:00500000")).fetchall()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as http:
        async def timed(label: str, url: str, repeat: int = 20) -> float:
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                response = await http.get(url)
                runs.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.text
            median = statistics.median(runs) * 1000
            print(f"{label:<40} median {median:8.2f} ms   max {max(runs) * 1000:8.2f} ms"
                  f"   x{median / baseline:6.1f} raw")
            return median

        runs = []
        for _ in range(50):
            t0 = time.perf_counter()
            raw_page()
            runs.append(time.perf_counter() - t0)
        baseline = statistics.median(runs) * 1000
        print(f"{'baseline: raw sqlite3 page of 100 keys':<40} median {baseline:8.2f} ms")
        first = (await http.get(f"{v4}/keys?limit=100")).json()
        cursor = first["result_info"]["cursor"]
        await timed("v4 first page (100 keys)", f"{v4}/keys?limit=100")
        await timed("v4 next page (100 keys)", f"{v4}/keys?limit=100&cursor={cursor}")
        desc = (await http.get(f"{x}/keys?limit=100&order=desc")).json()
        await timed("explorer descending first page", f"{x}/keys?limit=100&order=desc")
        await timed("explorer descending next page",
                    f"{x}/keys?limit=100&order=desc&cursor={desc['result_info']['cursor']}")
        await timed("v4 prefix search key:0050", f"{v4}/keys?limit=100&prefix=key:0050")
        await timed("explorer value preview", f"{x}/preview/key:00500000")
        await timed("key count, computed (cache cold)", f"{x}/count", repeat=1)
        await timed("key count, cached", f"{x}/count")
    raw.close()
    await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args().keys))
