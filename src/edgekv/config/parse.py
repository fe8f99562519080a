"""Read a config file into a raw dictionary: TOML with ``tomllib``, JSON with the C ``json``
parser, and JSONC (comments, trailing commas) with json5.

A syntax error becomes a ``ConfigError`` whose message names the file, the line and the
column, and shows the offending line with a caret, never a parser traceback.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import json5

from edgekv.config.diagnostics import Diagnostics
from edgekv.errors import ConfigError

__all__ = ["display_path", "parse_config_text", "read_raw_config"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")
_JSON5_POSITION = re.compile(r"^<string>:(\d+) (.*) at column (\d+)$", re.DOTALL)


def display_path(path: Path, cwd: Path | None = None) -> str:
    """``path`` relative to ``cwd`` when it lies below it (how wrangler names files), else as is."""
    base = (cwd or Path.cwd()).resolve()
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def read_raw_config(path: Path, *, cwd: Path | None = None) -> dict[str, Any]:
    """Parse the file at ``path`` by its extension (``.toml``, else JSON with comments).

    Raises ``ConfigError`` if the file cannot be read, does not parse, or is not an object.
    """
    shown = display_path(path, cwd)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _file_error(path, shown, f'The configuration file "{shown}" does not exist.') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _file_error(path, shown, f'Could not read "{shown}": {exc}') from exc
    return parse_config_text(text, path, shown)


def parse_config_text(text: str, path: Path, shown: str | None = None) -> dict[str, Any]:
    """Parse ``text`` as the content of ``path``; see ``read_raw_config`` for the contract."""
    shown = shown or path.name
    is_toml = path.suffix == ".toml"
    try:
        raw: object = tomllib.loads(text) if is_toml else _load_json(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, shown, text, *_toml_position(str(exc), text)) from None
    except _Constant as exc:
        raise _file_error(path, shown, f'"{shown}" is not valid JSON: {exc} is not a JSON value '
                          "(JSON.parse rejects NaN and Infinity; write a number or a string).") from None
    except RecursionError:
        raise _file_error(path, shown, f'"{shown}" nests tables, arrays or objects deeper than '
                          "edgekv can read (about 900 levels); no real configuration does.") from None
    except ValueError as exc:
        raise _syntax_error(path, shown, text, *_json5_position(str(exc))) from None
    if not isinstance(raw, dict):
        kind = "TOML table" if is_toml else "JSON object"
        raise _file_error(path, shown, f'The configuration file "{shown}" must contain a {kind}.')
    return raw


class _Constant(ValueError):
    """``NaN`` or ``Infinity`` in a JSON config (wrangler's JSONC parser rejects them)."""


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


def _load_json(text: str) -> object:
    """Plain JSON with the C parser (linear, ~100x faster than json5); json5 only for a file
    that needs it (comments, trailing commas), which also reports the error positions."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError:
        pass
    # json5 turns an exception raised in a hook into a bare ValueError: mark the constants
    # instead, and look for them once the file has parsed.
    raw = json5.loads(text, parse_constant=_Marker)
    _reject_markers(raw)
    return raw


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name


def _reject_markers(raw: object) -> None:
    stack = [raw]
    while stack:  # iterative: a deep file must not overflow the stack here
        node = stack.pop()
        if isinstance(node, _Marker):
            raise _Constant(node.name)
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _toml_position(message: str, text: str) -> tuple[str, int | None, int | None]:
    match = _TOML_POSITION.search(message)
    if match:
        return message[: match.start()], int(match.group(1)), int(match.group(2))
    match = _TOML_END.search(message)
    if match:
        lines = text.split("\n")
        return message[: match.start()], len(lines), len(lines[-1]) + 1
    return message, None, None


def _json5_position(message: str) -> tuple[str, int | None, int | None]:
    match = _JSON5_POSITION.match(message)
    if match:
        return match.group(2), int(match.group(1)), int(match.group(3))
    return message, None, None


def _syntax_error(
    path: Path, shown: str, text: str, reason: str, line: int | None, column: int | None
) -> ConfigError:
    kind = "TOML" if path.suffix == ".toml" else "JSON"
    reason = reason[:1].upper() + reason[1:]
    diagnostics = Diagnostics(f"Processing {shown} configuration:", path)
    diagnostics.error(f"Invalid {kind} in {shown}: {reason}", line=line, column=column)
    report = f"Could not parse {shown} ({kind}): {reason}"
    if line is not None and column is not None:
        source_lines = text.split("\n")
        source = source_lines[line - 1] if 0 < line <= len(source_lines) else ""
        gutter = " " * len(str(line))
        report += (
            f"\n\n    {shown}:{line}:{column}:\n"
            f"      {line} │ {source}\n"
            f"      {gutter} ╵ {' ' * (column - 1)}^"
        )
    return ConfigError(report, diagnostics)


def _file_error(path: Path, shown: str, message: str) -> ConfigError:
    diagnostics = Diagnostics(f"Processing {shown} configuration:", path)
    diagnostics.error(message)
    return ConfigError(message, diagnostics)
