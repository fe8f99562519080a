"""Benchmark ``edgekv kv bulk put`` and ``edgekv kv key list`` as a user runs them.

Each command runs as a real subprocess (``python -m edgekv``) on a fresh project; wall time
and the child's peak RSS (sampled) are reported, next to a raw ``sqlite3`` baseline
measured in the same run: one transaction of ``executemany`` inserts, and one ``SELECT`` of
every key dumped as JSON. Runs at two sizes to show whether memory stays flat in the number
of entries.

    .venv/bin/python bench/bulk.py              # 100,000 and 10,000 entries
    .venv/bin/python bench/bulk.py --entries 50000
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOML = """name = "bench"
main = "src/entry.py"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "KV", id = "00000000000000000000000000000001" }]
"""
TARGET_SECONDS = 10.0


def run_measured(args: list[str], cwd: Path, stdout_path: Path | None = None) -> tuple[float, float]:
    """Run a child; return (seconds, peak RSS in MiB), sampling its RSS every 5 ms.

    (``wait4``'s ``ru_maxrss`` would include the benchmark's own pages inherited at fork.)
    """
    import psutil

    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    if stdout_path:
        out.close()  # type: ignore[union-attr]
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, peak / (1 << 20)


def raw_baseline(entries: list[dict[str, str]], folder: Path) -> tuple[float, float]:
    """Raw sqlite3: insert every entry in one transaction, then read every key as JSON."""
    conn = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE e (space INTEGER, key TEXT, value BLOB, expiration INTEGER, "
                 "metadata TEXT, PRIMARY KEY (space, key)) WITHOUT ROWID")
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT OR REPLACE INTO e VALUES (1, ?, ?, NULL, NULL)",
                     ((e["key"], e["value"].encode()) for e in entries))
    conn.execute("COMMIT")
    put_seconds = time.perf_counter() - start
    start = time.perf_counter()
    names = [{"name": row[0]} for row in conn.execute("SELECT key FROM e WHERE space = 1 ORDER BY key")]
    json.dumps(names, indent=2)
    list_seconds = time.perf_counter() - start
    conn.close()
    return put_seconds, list_seconds


def bench(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "wrangler.toml").write_text(TOML)
        entries = [{"key": f"key:{i:08d}", "value": f"{i:08d}" + "v" * 92} for i in range(n)]
        (folder / "bulk.json").write_text(json.dumps(entries))
        raw_put, raw_list = raw_baseline(entries, folder)
        del entries
        edgekv = [sys.executable, "-m", "edgekv", "kv"]
        put_s, put_mb = run_measured([*edgekv, "bulk", "put", "bulk.json", "--binding", "KV"], folder)
        list_s, list_mb = run_measured([*edgekv, "key", "list", "--binding", "KV"], folder,
                                       stdout_path=folder / "list.json")
        listed = json.loads((folder / "list.json").read_text())
        assert len(listed) == n, f"listed {len(listed)} of {n}"
        return {"n": n, "put_s": put_s, "put_mb": put_mb, "list_s": list_s, "list_mb": list_mb,
                "raw_put": raw_put, "raw_list": raw_list}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="second size, for memory flatness")
    args = parser.parse_args()
    rows = [bench(args.entries), bench(args.small)]
    print(f"{'entries':>9} | {'bulk put s':>10} {'peak MiB':>9} {'raw put s':>9} {'ratio':>7} | "
          f"{'key list s':>10} {'peak MiB':>9} {'raw list s':>10} {'ratio':>7}")
    for r in rows:
        print(f"{r['n']:>9,} | {r['put_s']:>10.2f} {r['put_mb']:>9.1f} {r['raw_put']:>9.2f} "
              f"{r['put_s'] / r['raw_put']:>6.1f}x | {r['list_s']:>10.2f} {r['list_mb']:>9.1f} "
              f"{r['raw_list']:>10.2f} {r['list_s'] / r['raw_list']:>6.1f}x")
    big, small = rows
    verdict = "PASS" if big["put_s"] < TARGET_SECONDS else "MISS"
    print(f"target: bulk put of {big['n']:,} entries in < {TARGET_SECONDS:.0f} s: {verdict} ({big['put_s']:.2f} s)")
    growth = big["put_mb"] - small["put_mb"]
    print(f"memory: bulk put peak grows {growth:+.1f} MiB and key list {big['list_mb'] - small['list_mb']:+.1f} MiB "
          f"from {small['n']:,} to {big['n']:,} entries (the ratio column is edgekv time / raw sqlite3 time)")


if __name__ == "__main__":
    main()
