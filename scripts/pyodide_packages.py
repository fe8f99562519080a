"""Regenerate src/edgekv/strict/pyodide_packages.json from Pyodide's pyodide-lock.json.

The lock ships in the npm package `pyodide` (the version Cloudflare's Python 3.13 Workers use
to resolve packages: 0.28.3). Usage:

    npm pack pyodide@0.28.3 && tar xzf pyodide-0.28.3.tgz
    python scripts/pyodide_packages.py package/pyodide-lock.json

Only names, versions, import names and whether a package is a platform wheel are kept.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "edgekv" / "strict" / "pyodide_packages.json"


def main(lock_path: str, npm_version: str = "0.28.3") -> None:
    lock = json.loads(Path(lock_path).read_text(encoding="utf-8"))
    packages = {}
    for name, entry in sorted(lock["packages"].items()):
        if not entry.get("imports") and name.endswith("-tests"):
            continue
        file_name = entry.get("file_name", "")
        packages[name] = {
            "version": entry.get("version"),
            "imports": entry.get("imports", []),
            "native": "emscripten" in file_name or "wasm32" in file_name,
        }
    info = lock.get("info", {})
    data = {"pyodide": npm_version, "lock_version": info.get("version"), "python": info.get("python"), "packages": packages}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(packages)} packages to {OUT}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
