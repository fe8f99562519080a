"""Findings about a configuration file, collected in a tree and rendered the way wrangler does.

Wrangler never stops at the first mistake: every validator appends to a ``Diagnostics`` node,
named environments and Durable Object bindings get child nodes, and the tree is rendered as
``Processing <file> configuration:`` followed by ``- `` bullets, each level indented by two
spaces (workers-sdk ``packages/workers-utils/src/config/diagnostics.ts``). This module mirrors
that shape, and additionally records for every finding the file and the field path
(``kv_namespaces[0].binding``) so that tools can point at it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edgekv.js import is_safe_integer, stringify, to_number

__all__ = [
    "Diagnostic",
    "Diagnostics",
    "Severity",
    "format_message",
    "js_json",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding: ``message`` is wrangler's text; ``field`` the dotted path it concerns.

    ``field`` is ``None`` for findings about the file as a whole. ``line`` and ``column`` are
    1-based and only set for parse errors.
    """

    severity: Severity
    message: str
    field: str | None = None
    file: Path | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class Diagnostics:
    """A node of the findings tree: errors and warnings at this level plus child nodes.

    Built up while a config is validated; treat it as read-only once ``load_config`` returns.
    """

    description: str
    file: Path | None = None
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    children: list[Diagnostics] = field(default_factory=list)

    def error(self, message: str, field: str | None = None, **where: Any) -> None:
        """Record an error (the config cannot be used)."""
        self.errors.append(Diagnostic("error", message, field, self.file, **where))

    def warn(self, message: str, field: str | None = None) -> None:
        """Record a warning (the config is used, but probably not as the user meant)."""
        self.warnings.append(Diagnostic("warning", message, field, self.file))

    def child(self, description: str) -> Diagnostics:
        """A new child node; attach it with ``add_child`` once it has been filled."""
        return Diagnostics(description, self.file)

    def add_child(self, child: Diagnostics) -> None:
        """Attach ``child`` if it holds any finding (empty nodes are dropped, as in wrangler)."""
        if child.has_errors() or child.has_warnings():
            self.children.append(child)

    def has_errors(self) -> bool:
        """Whether this node or any descendant holds an error."""
        return bool(self.errors) or any(c.has_errors() for c in self.children)

    def has_warnings(self) -> bool:
        """Whether this node or any descendant holds a warning."""
        return bool(self.warnings) or any(c.has_warnings() for c in self.children)

    def all_errors(self) -> Iterator[Diagnostic]:
        """Every error in the tree, depth first, in the order they were found."""
        yield from self.errors
        for c in self.children:
            yield from c.all_errors()

    def all_warnings(self) -> Iterator[Diagnostic]:
        """Every warning in the tree, depth first, in the order they were found."""
        yield from self.warnings
        for c in self.children:
            yield from c.all_warnings()

    def render_errors(self) -> str:
        """The errors as wrangler prints them after ``✘ [ERROR] ``."""
        return self._render("errors")

    def render_warnings(self) -> str:
        """The warnings as wrangler prints them after ``▲ [WARNING] ``."""
        return self._render("warnings")

    def _render(self, kind: Literal["errors", "warnings"]) -> str:
        has = Diagnostics.has_errors if kind == "errors" else Diagnostics.has_warnings
        lines = [f"- {_indent(d.message)}" for d in getattr(self, kind)]
        children = ["- " + c._render(kind) for c in self.children if has(c)]
        return _indent(f"{self.description}\n" + "\n".join(lines + children))


def _indent(text: str) -> str:
    """Indent all but the first line by two spaces; blank lines become empty (wrangler's rule)."""
    out = []
    for i, line in enumerate(text.split("\n")):
        line = line if i == 0 else f"  {line}"
        out.append("" if not line.strip() else line)
    return "\n".join(out)


def js_json(value: object) -> str:
    """``JSON.stringify(value)`` as JavaScript prints it, so messages match wrangler's.

    Numbers print as V8 prints them (``1.0`` -> ``1``, NaN -> ``null``); integers beyond
    ``2**53`` as the double a JS parser reads them as; TOML dates and times as ISO strings
    (what ``Date.prototype.toJSON`` gives); ``undefined`` as ``undefined`` (what a template
    string shows for ``JSON.stringify(undefined)``).
    """
    text = stringify(value, _as_parsed, default=_js_default)
    return "undefined" if text is None else text


def _as_parsed(key: str, value: Any) -> Any:
    # TOML and JSON parsers in JavaScript give doubles, never BigInts (which would not print).
    if type(value) is int and not is_safe_integer(value):
        return to_number(value)
    return value


def _js_default(value: object) -> object:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="milliseconds") + "Z"
        return value.astimezone(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, _dt.date):
        return f"{value.isoformat()}T00:00:00.000Z"
    if isinstance(value, _dt.time):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def format_message(kind: str, message: str) -> str:
    """A message laid out as wrangler (esbuild) prints it: ``<kind> <first line>``, then the
    other lines as notes indented by two spaces after a blank line, ending with a newline.

    ``kind`` is ``"✘ [ERROR]"`` or ``"▲ [WARNING]"``; a message that already starts with it
    is returned as it is.
    """
    if message.startswith(kind):
        return message.rstrip("\n") + "\n"
    first, _, rest = message.partition("\n")
    text = f"{kind} {first}\n"
    if rest:
        text += "\n" + "\n".join(f"  {line}" for line in rest.split("\n")) + "\n"
    return text
