"""The layering of docs/architecture.md: a module may import only its own layer or lower ones."""

from __future__ import annotations

import ast
from pathlib import Path

import edgekv

PACKAGE = Path(edgekv.__file__).parent

# Rank of each top-level part of the package; imports must not point to a higher rank.
LAYERS = {
    "errors": 0, "limits": 0, "clock": 0, "suggest": 0, "promises": 0,
    "storage": 1, "config": 1, "edge": 1,
    "kv": 2, "durable_objects": 2, "accounts": 2,
    "runtime": 3,
    "client": 4, "server": 4, "strict": 4,
    "cli": 5,
    "testing": 6,
    "js": 0,
}


def _part(module: str) -> str | None:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[0] == "edgekv" else None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert parts - {"py"} <= set(LAYERS), f"unlayered parts: {sorted(parts - set(LAYERS))}"


def test_imports_point_down() -> None:
    violations = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("__init__.py", "__main__.py") or "shims" in relative.parts:
            continue  # the package facade and the Worker-facing shims sit on top of everything
        part = relative.parts[0].removesuffix(".py")
        for module in _imports(path):
            target = _part(module)
            if target is not None and target in LAYERS and LAYERS[target] > LAYERS[part]:
                violations.append(f"{relative}: imports {module} ({part} -> {target})")
    assert not violations, "\n".join(violations)


def test_js_leaf_imports_nothing_else_of_edgekv() -> None:
    """``edgekv.js`` (JavaScript semantics) is imported by every layer, so it imports none."""
    violations = []
    for path in (PACKAGE / "js").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # a relative import could reach a sibling package
                    violations.append(f"{path.name}: relative import")
                    continue
                names = [f"{node.module}.{alias.name}" if node.module == "edgekv" else node.module
                         for alias in node.names] if node.module else []
            else:
                continue
            violations += [f"{path.name}: imports {name}" for name in names
                           if (name == "edgekv" or name.startswith("edgekv."))
                           and not name.startswith("edgekv.js.") and name != "edgekv.js"]
    assert not violations, "\n".join(violations)
