"""The repository explains itself: its error tree is drawn truthfully in one place, and no
tracked file points outside the repository for a contract it relies on."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import edgekv
import edgekv.errors
from edgekv.errors import EdgeKVError

ROOT = Path(__file__).resolve().parent.parent

# One drawn node: tree prefix, class name, extra built-in bases in parentheses.
_NODE = re.compile(r"^(?P<prefix>(?:[│ ]   )*)(?:[├└]── )?(?P<name>[A-Z]\w+)"
                   r"(?: \((?P<bases>[A-Za-z, ]+)\))?(?:\s{2,}|$)")


def _blocks(doc: str) -> list[list[str]]:
    """The literal blocks (``::`` then indented lines) of a docstring, dedented."""
    blocks: list[list[str]] = []
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if not line.rstrip().endswith("::"):
            continue
        block = []
        for body in lines[i + 1:]:
            if body.strip() and not body.startswith("    "):
                break
            block.append(body[4:])
        blocks.append([b for b in block if b.strip()])
    return blocks


def _drawn_tree() -> dict[str, tuple[str | None, set[str]]]:
    """``name -> (drawn parent, extra bases)`` of the first drawing in ``edgekv.errors``."""
    tree: dict[str, tuple[str | None, set[str]]] = {}
    stack: list[str] = []
    for line in _blocks(edgekv.errors.__doc__ or "")[0]:
        match = _NODE.match(line)
        if match is None:
            continue  # a description continued on its own line
        depth = len(match["prefix"]) // 4 + (1 if line[len(match["prefix"])] in "├└" else 0)
        stack[depth:] = [match["name"]]
        parent = stack[depth - 1] if depth else None
        bases = {b.strip() for b in (match["bases"] or "").split(",") if b.strip()}
        assert match["name"] not in tree, f"{match['name']} is drawn twice"
        tree[match["name"]] = (parent, bases)
    return tree


def _drawn_outside() -> set[str]:
    found = set()
    for line in _blocks(edgekv.errors.__doc__ or "")[1]:
        match = re.match(r"([A-Z]\w+)\s", line)
        if match:
            found.add(match[1])
    return found


def _all_exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in edgekv (all modules imported first)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for info in pkgutil.walk_packages(edgekv.__path__, "edgekv."):
            # __main__ runs the CLI; the Worker-facing shims (``workers``, ``js``...) define no
            # exception and are meant to be imported under their own names only.
            if not info.name.endswith("__main__") and ".shims." not in info.name:
                importlib.import_module(info.name)
    found: list[type[BaseException]] = []
    todo: list[type[BaseException]] = [BaseException]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.append(sub)
                todo.append(sub)
    return [c for c in found if c.__module__.split(".")[0] == "edgekv"]


def test_error_drawing_matches_the_class_hierarchy() -> None:
    drawn = _drawn_tree()
    assert drawn["EdgeKVError"] == (None, set())
    real = {}
    for cls in _all_exception_classes():
        if not issubclass(cls, EdgeKVError) or cls.__name__.startswith("_"):
            continue
        parent = cls.__bases__[0]
        extra = {b.__name__ for b in cls.__bases__[1:]}
        real[cls.__name__] = (None if cls is EdgeKVError else parent.__name__, extra)
    missing = sorted(set(real) - set(drawn))
    stale = sorted(set(drawn) - set(real))
    assert not missing, f"errors.py's drawing lacks {missing}"
    assert not stale, f"errors.py draws classes that do not exist: {stale}"
    wrong = {name: (drawn[name], real[name]) for name in real if drawn[name] != real[name]}
    assert not wrong, f"drawn (parent, extra bases) differ from the code: {wrong}"


def test_every_exception_is_in_the_tree_or_named_outside_it() -> None:
    outside = {c.__name__ for c in _all_exception_classes()
               if not issubclass(c, EdgeKVError) and not c.__name__.startswith("_")}
    drawn_outside = _drawn_outside()
    assert outside == drawn_outside, (
        f"outside the EdgeKVError tree but not explained in errors.py: "
        f"{sorted(outside - drawn_outside)}; explained but not outside: "
        f"{sorted(drawn_outside - outside)}")


# --- nothing tracked points outside the repository -------------------------------------------

# Folders beside the repository that only existed on the machine it was written on. The
# needles are assembled, so that this file does not itself cite what it forbids.
_BESIDE = "shared"
_OUTSIDE = (f"../{_BESIDE}", f"/work/{_BESIDE}")
# Spec documents that are not part of the repository; docs/<topic>.md holds the contracts.
_FOREIGN_DOCS = ("kv-architecture.md", "wrangler-config-cli-rest-api.md", "DESIGN.md")
# The peer kit's default folder is named by the script that looks there (configurably, with
# EDGEKV_PEER_SRC) and by the page that documents it; by nothing else.
_PEER_LOCATORS = {"scripts/test.sh", "docs/peer.md"}
_NOT_SOURCE = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".edgekv",
               ".wrangler", "build", "dist"}
_CITED_DOC = re.compile(r"(?<![\w/.-])(?:docs/)?([\w-]+\.md)\b")
# "spec §4.2", "spec D.2", "catalogue §12": section numbers of documents the repository lacks.
_FOREIGN_SECTION = re.compile(r"\bspec\b[^\n§]{0,40}§|\bspec [A-Z]\.\d|\bcatalogue §")
# "docs/kv-binding.md §8" (the reference may wrap onto the next line).
_DOC_SECTION = re.compile(r"docs/([\w-]+\.md)\s+§(\d+)")
_SELF = "tests/test_repository.py"


def _tracked_text_files() -> list[str]:
    """``git ls-files``; outside a git checkout (an exported tree), every file of the tree
    except virtual environments, caches and build output."""
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                                check=True, timeout=60).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        listed = [str(path.relative_to(ROOT)) for path in ROOT.rglob("*")
                  if path.is_file() and not _NOT_SOURCE & set(path.relative_to(ROOT).parts)
                  and not any(part.endswith(".egg-info") for part in path.parts)]
    return [name for name in listed if name and (ROOT / name).is_file()
            and not name.endswith((".png", ".jpg", ".ico"))]


def test_no_tracked_file_points_outside_the_repository() -> None:
    found = []
    for name in _tracked_text_files():
        if name == _SELF:
            continue
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        for needle in _OUTSIDE + _FOREIGN_DOCS:
            if needle in text:
                line = text[:text.index(needle)].count("\n") + 1
                found.append(f"{name}:{line}: {needle}")
        if name not in _PEER_LOCATORS and re.search(rf"(?<![\w.-]){_BESIDE}/(?:peer|spec)", text):
            found.append(f"{name}: the peer kit or spec folder beside the repository")
        for match in _FOREIGN_SECTION.finditer(text):
            line = text[:match.start()].count("\n") + 1
            found.append(f"{name}:{line}: {match[0]!r} (cite docs/<topic>.md instead)")
    assert not found, "references to files outside the repository:\n" + "\n".join(found)


def test_every_cited_markdown_file_exists() -> None:
    """A ``<name>.md`` cited anywhere is a file of the repository (``docs/`` or a README)."""
    present = {p.name for p in (ROOT / "docs").glob("*.md")} | {"README.md"}
    present |= {Path(name).name for name in _tracked_text_files() if name.endswith(".md")}
    found = []
    for name in _tracked_text_files():
        if name == _SELF:
            continue
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        for match in _CITED_DOC.finditer(text):
            if match[1] not in present:
                line = text[:match.start()].count("\n") + 1
                found.append(f"{name}:{line}: {match[0]}")
    assert not found, "cited .md files that the repository does not have:\n" + "\n".join(found)


def test_numbered_section_references_exist() -> None:
    """``docs/<page>.md §N`` names a page whose headings include ``## N.``."""
    found = []
    for name in _tracked_text_files():
        if name == _SELF:
            continue
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        for match in _DOC_SECTION.finditer(text):
            page = ROOT / "docs" / match[1]
            headings = page.read_text(encoding="utf-8") if page.is_file() else ""
            if not re.search(rf"^#+ {match[2]}\.", headings, re.MULTILINE):
                line = text[:match.start()].count("\n") + 1
                found.append(f"{name}:{line}: {match[0]!r}")
    assert not found, "references to sections that do not exist:\n" + "\n".join(found)


_DOC_HEADING = re.compile(r"docs/([\w-]+\.md)`?,?\s+\"([^\"]{2,80})\"")


def _words(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def test_named_section_references_exist() -> None:
    """``docs/<page>.md, "Heading"`` names a heading of that page (its start is enough)."""
    found = []
    for name in _tracked_text_files():
        if name == _SELF:
            continue
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        for match in _DOC_HEADING.finditer(text):
            page = ROOT / "docs" / match[1]
            headings = [_words(line.lstrip("#")) for line in
                        (page.read_text(encoding="utf-8") if page.is_file() else "").splitlines()
                        if line.startswith("#")]
            if not any(h.startswith(_words(match[2])) for h in headings):
                line = text[:match.start()].count("\n") + 1
                found.append(f"{name}:{line}: {match[0]!r}")
    assert not found, "references to headings that do not exist:\n" + "\n".join(found)


# "rank 4  server   ...", or "        client   ..." for another part of the same rank.
_RANK_LINE = re.compile(r"^(?:rank (?P<rank>\d)  |        )"
                        r"(?P<names>[a-z_]+(?:, [a-z_]+)*)(?:\s{2,}|$)")


def test_architecture_page_states_the_layers_of_the_layer_test() -> None:
    """The rank table of docs/architecture.md is ``LAYERS`` of tests/test_architecture.py."""
    from tests.test_architecture import LAYERS

    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = page.split("## Layers", 1)[1].split("```", 2)[1]
    drawn: dict[str, int] = {}
    rank = -1
    for line in table.splitlines():
        match = _RANK_LINE.match(line)
        if match is None:
            continue
        if match["rank"] is not None:
            rank = int(match["rank"])
        for part in match["names"].split(", "):
            drawn[part] = rank
    differ = {part: (drawn.get(part), LAYERS.get(part)) for part in set(drawn) | set(LAYERS)
              if drawn.get(part) != LAYERS.get(part)}
    assert not differ, f"docs/architecture.md's rank table vs LAYERS (drawn, real): {differ}"


# ``ruff check`` findings tolerated, by file and rule, in files another change was editing
# when this test came in (the request hot path: server/limits.py, server/access.py,
# server/dev.py, cli/dev.py, runtime/worker.py, runtime/context.py, promises.py,
# kv/namespace.py, storage/sqlite.py, runtime/asgi_server.py, runtime/web/, bench/http.py,
# bench/_peer.py, bench/_floor.py). None had one then, so the list is empty; an entry that no
# longer matches a finding fails the test, so it cannot outlive its fix.
_RUFF_TOLERATED: dict[str, set[str]] = {}
_RUFF_FINDING = re.compile(r"^(?P<path>[^:\n]+):\d+:\d+: (?P<code>[A-Z]+\d+) ", re.MULTILINE)


def _pinned(tool: str) -> str:
    """The version of ``tool`` the test extras of pyproject.toml pin (``tool==X``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [spec.split("==", 1)[1] for spec in project["project"]["optional-dependencies"]["test"]
            if re.match(rf"{tool}\s*==", spec)]
    assert len(pins) == 1, f"pyproject.toml's test extras must pin {tool} exactly ({tool}==X)"
    return pins[0].strip()


def test_ruff_finds_nothing_in_the_code_tests_and_benchmarks() -> None:
    """``ruff check`` over src, tests and bench (the rules of the pinned version, configured in
    pyproject.toml) finds nothing: each finding is fixed, or kept with ``# noqa: RULE - why``."""
    version = subprocess.run([sys.executable, "-m", "ruff", "--version"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=False)
    pinned = _pinned("ruff")
    assert version.stdout.split() == ["ruff", pinned], (
        f"the rules differ between ruff releases: pyproject.toml pins ruff {pinned}, this "
        f"interpreter has {version.stdout.strip() or version.stderr.strip()} "
        "(scripts/setup.sh installs the pin)")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                           "--output-format=concise", "src", "tests", "bench"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    found = [(m["path"].replace("\\", "/"), m["code"]) for m in _RUFF_FINDING.finditer(done.stdout)]
    untolerated = [f for f in found if f[1] not in _RUFF_TOLERATED.get(f[0], set())]
    stale = sorted((path, code) for path, codes in _RUFF_TOLERATED.items() for code in codes
                   if (path, code) not in found)
    assert done.returncode == 0 or found, f"ruff check failed (exit {done.returncode}):\n{output}"
    assert not untolerated, f"ruff check found {len(untolerated)} problem(s):\n{output}"
    assert not stale, f"tolerated findings that ruff no longer reports (remove them): {stale}"


# ``mypy`` errors tolerated, by file and error code, in files another change was editing when
# this test came in (the request hot path: server/limits.py, server/access.py, server/console.py,
# server/coalescing.py, runtime/worker.py, runtime/context.py, promises.py, kv/namespace.py,
# runtime/entrypoints.py, runtime/web/request.py, runtime/web/response.py,
# runtime/web/headers.py, runtime/asgi_server.py). None had one then, so the list is empty; an
# entry that no longer matches an error fails the test, so it cannot outlive its fix.
_MYPY_TOLERATED: dict[str, set[str]] = {}
_MYPY_ERROR = re.compile(r"^(?P<path>[^:\n]+):\d+: error: .*\[(?P<code>[a-z-]+)\]$", re.MULTILINE)


def test_mypy_finds_no_error_in_the_code(tmp_path: Path) -> None:
    """``mypy`` over src/edgekv (the checks of the pinned version, configured in
    pyproject.toml's ``[tool.mypy]``) reports no error: each is fixed in the types, or kept
    with ``# type: ignore[code]`` and the reason a library's annotation is wrong."""
    version = subprocess.run([sys.executable, "-m", "mypy", "--version"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=False)
    pinned = _pinned("mypy")
    assert version.stdout.split()[:2] == ["mypy", pinned], (
        f"the checks differ between mypy releases: pyproject.toml pins mypy {pinned}, this "
        f"interpreter has {version.stdout.strip() or version.stderr.strip()} "
        "(scripts/setup.sh installs the pin)")
    # A cache of its own: a stale .mypy_cache of the checkout cannot hide or invent an error.
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
                           "--no-pretty", "--no-color-output", "--show-error-codes"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    found = [(m["path"].replace("\\", "/"), m["code"]) for m in _MYPY_ERROR.finditer(done.stdout)]
    untolerated = [f for f in found if f[1] not in _MYPY_TOLERATED.get(f[0], set())]
    stale = sorted((path, code) for path, codes in _MYPY_TOLERATED.items() for code in codes
                   if (path, code) not in found)
    assert done.returncode == 0 or found, f"mypy failed (exit {done.returncode}):\n{output}"
    assert not untolerated, f"mypy found {len(untolerated)} error(s):\n{output}"
    assert not stale, f"tolerated errors that mypy no longer reports (remove them): {stale}"
