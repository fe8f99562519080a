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
LAYERS["asgi_types"] = 0  # the ASGI type aliases, declared once (standard library only)


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


# -- Private names stay in their module ---------------------------------------------------------
#
# A name with one leading underscore belongs to the module that defines it: a module-level
# ``_x``, or an attribute/method ``_x`` of a class defined there. Another module may not import
# it (``from edgekv.a import _x``) nor read it (``obj._x``); when it needs one, the owner adds
# a small public method or function. The check is by name: ``obj._x`` is flagged when some
# other edgekv module defines ``_x`` and this module defines no ``_x`` of its own. Two cases
# are the owner's own business and pass: ``self._x`` in a class whose bases come from outside
# edgekv (a ``logging.Formatter`` subclass reading ``self._fmt``), and a subclass using the
# hooks of its edgekv base class (``Response(Body)`` calling ``self._init_body``).

# Each entry: (module, name) -> why it is allowed. Keep this short.
PRIVATE_ACCESS_ALLOWED: dict[tuple[str, str], str] = {
    # Empty: every cross-module use goes through a public name. Add an entry only with a reason.
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _owned_names(tree: ast.Module) -> set[str]:
    """Private names a module defines: module-level, class members, ``self._x = ...``."""
    owned: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            owned.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            owned |= {t.id for t in targets if isinstance(t, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    owned.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    owned.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    for target in item.targets:
                        if isinstance(target, ast.Name):
                            owned.add(target.id)
                            if target.id == "__slots__":
                                owned |= {c.value for c in ast.walk(item.value)
                                          if isinstance(c, ast.Constant)
                                          and isinstance(c.value, str)}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id in ("self", "cls")):
                    owned.add(target.attr)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "__setattr__" and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            owned.add(node.args[1].value)  # object.__setattr__(self, "_x", ...) in __init__
    return {name for name in owned if _is_private(name)}


def _base_names(node: ast.ClassDef) -> list[str]:
    names = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
        elif isinstance(base, ast.Subscript) and isinstance(base.value, ast.Name):
            names.append(base.value.id)  # Generic[T]
    return names


def _private_access_violations() -> list[str]:
    trees = {_module_name(p): ast.parse(p.read_text(encoding="utf-8"))
             for p in PACKAGE.rglob("*.py")}
    owned = {module: _owned_names(tree) for module, tree in trees.items()}
    owners: dict[str, set[str]] = {}
    class_modules: dict[str, set[str]] = {}
    for module, tree in trees.items():
        for name in owned[module]:
            owners.setdefault(name, set()).add(module)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                class_modules.setdefault(node.name, set()).add(module)

    def parents(module: str) -> set[str]:
        """Modules whose classes this module's classes extend, transitively."""
        found: set[str] = set()
        todo = [n for n in ast.walk(trees[module]) if isinstance(n, ast.ClassDef)]
        seen: set[str] = set()
        while todo:
            node = todo.pop()
            for base in _base_names(node):
                for owner in class_modules.get(base, ()):
                    if (owner, base) in seen:
                        continue
                    seen.add((owner, base))
                    found.add(owner)
                    todo += [n for n in ast.walk(trees[owner])
                             if isinstance(n, ast.ClassDef) and n.name == base]
        return found

    violations = []
    for module, tree in trees.items():
        allowed = set(owned[module])
        for parent in parents(module):
            allowed |= owned[parent]
        foreign_base_self: set[int] = set()  # ``self`` nodes inside classes with outside bases
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                    base not in class_modules for base in _base_names(node)
                    if base not in ("object", "Generic", "Protocol")):
                foreign_base_self |= {id(n) for n in ast.walk(node)
                                      if isinstance(n, ast.Name) and n.id in ("self", "cls")}
        for node in ast.walk(tree):
            found: list[tuple[str, int]] = []
            if (isinstance(node, ast.ImportFrom) and node.module
                    and node.module.startswith("edgekv") and node.module != module):
                found = [(a.name, node.lineno) for a in node.names if _is_private(a.name)]
            elif (isinstance(node, ast.Attribute) and _is_private(node.attr)
                  and node.attr not in allowed and node.attr in owners
                  and id(node.value) not in foreign_base_self):
                found = [(node.attr, node.lineno)]
            for name, line in found:
                if (module, name) not in PRIVATE_ACCESS_ALLOWED:
                    where = ", ".join(sorted(owners.get(name, {"?"})))
                    violations.append(f"{module}:{line}: uses {name} of {where}")
    return violations


def test_private_names_stay_in_their_module() -> None:
    violations = _private_access_violations()
    assert not violations, "\n".join(violations)


def test_private_access_allow_list_is_still_needed() -> None:
    # An entry nobody needs any more must go, so the list stays an honest record.
    saved = dict(PRIVATE_ACCESS_ALLOWED)
    PRIVATE_ACCESS_ALLOWED.clear()
    try:
        flagged = {(v.split(":")[0], v.split(" uses ")[1].split(" of ")[0])
                   for v in _private_access_violations()}
    finally:
        PRIVATE_ACCESS_ALLOWED.update(saved)
    assert set(saved) <= flagged, f"unused allow-list entries: {sorted(set(saved) - flagged)}"


def test_no_registration_at_import_time() -> None:
    # Wiring happens at construction: a module's top level may not call into another edgekv
    # module for its side effect (``codec.register_passthrough(Request)`` did: importing the
    # runtime changed how the Durable Object layer copied values, for every runtime at once).
    violations = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__main__.py":
            continue  # ``python -m edgekv`` runs the CLI: that is its whole purpose
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.level or (
                    node.module or "").startswith("edgekv")):
                imported |= {alias.asname or alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {(alias.asname or alias.name).split(".")[0] for alias in node.names
                             if alias.name.startswith("edgekv")}
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                root = node.value.func
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in imported:
                    violations.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: "
                                      f"{ast.unparse(node)[:60]}")
    assert not violations, "\n".join(violations)


# Sub-layers of ``runtime`` (docs/architecture.md): the longest matching prefix gives a module
# its rank; imports inside ``runtime`` must not point to a higher one.
RUNTIME_LAYERS = {
    # leaves: runtime errors, the pyodide.ffi stand-ins, and the import finder of the shims
    # package (its __init__ routes names to files; it imports nothing of edgekv)
    "runtime.errors": 0, "runtime.ffi": 0, "runtime.shims": 0,
    "runtime.web": 1,  # Web platform types: Request, Response, Headers, fetch, WebSocket, ...
    "runtime": 2,  # the Worker lifecycle: loader, entrypoints, env, ctx, events, bridges
    # what Worker code imports as ``workers``, ``js``, ``pyodide``, ``asgi``
    "runtime.shims.workers": 3, "runtime.shims.js": 3, "runtime.shims.pyodide": 3,
    "runtime.shims.asgi": 3,
}


def _runtime_rank(module: str) -> int | None:
    name = module.removeprefix("edgekv.")
    best = None
    for prefix in RUNTIME_LAYERS:
        if (name == prefix or name.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best)):
            best = prefix
    return None if best is None else RUNTIME_LAYERS[best]


def _resolved_imports(path: Path) -> list[str]:
    """Imported module names; ``from edgekv.a import b`` names ``edgekv.a.b`` if that is a
    module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = PACKAGE.parent.joinpath(*f"{node.module}.{alias.name}".split("."))
                is_module = candidate.with_suffix(".py").is_file() or candidate.is_dir()
                found.append(f"{node.module}.{alias.name}" if is_module else node.module)
    return found


def test_runtime_sublayers_point_down() -> None:
    violations = []
    runtime = PACKAGE / "runtime"
    for path in runtime.rglob("*.py"):
        module = _module_name(path)
        rank = _runtime_rank(module)
        assert rank is not None, f"{module} has no runtime sub-layer"
        for target in _resolved_imports(path):
            target_rank = _runtime_rank(target) if target.startswith("edgekv.runtime") else None
            if target_rank is not None and target_rank > rank:
                violations.append(f"{module} imports {target} ({rank} -> {target_rank})")
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
