"""Writing to a wrangler config: ``kv namespace create --update-config``.

The new binding is added the way a person would add it, and the file is read back through
``load_config``; if the result does not load, the file is restored and ``ConfigEditError``
says why. Formats:

- ``wrangler.toml``: a ``[[kv_namespaces]]`` (or ``[[env.NAME.kv_namespaces]]``) table is
  appended, keeping the file's text and comments. A file that already writes that list inline
  (``kv_namespaces = [...]``) cannot take an appended table: the error says so.
- ``wrangler.json``, and ``wrangler.jsonc`` without comments: the document gets the entry and is
  written back indented with tabs, as wrangler writes it. A ``.jsonc`` with comments is refused
  rather than losing them.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from edgekv.errors import ConfigError

__all__ = ["ConfigEditError", "add_kv_namespace"]


class ConfigEditError(ConfigError):
    """The config file could not be changed; it is left as it was."""


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def add_kv_namespace(path: Path, binding: str, id_field: str, namespace_id: str,
                     env: str | None = None) -> None:
    """Add ``{binding, <id_field>: namespace_id}`` to the config's ``kv_namespaces`` (of
    ``[env.<env>]`` when given). Raises ``ConfigEditError``."""
    original = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        updated = _toml(original, binding, id_field, namespace_id, env, path)
    else:
        updated = _json(original, binding, id_field, namespace_id, env, path)
    path.write_text(updated, encoding="utf-8")
    try:
        from edgekv.config.loader import load_config

        load_config(path, env=env, environ={})
    except ConfigError as exc:
        path.write_text(original, encoding="utf-8")
        raise ConfigEditError(f"{path.name} was left unchanged: the edit did not load ({exc})") from exc


def _toml(text: str, binding: str, id_field: str, namespace_id: str, env: str | None,
          path: Path) -> str:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigEditError(f"{path.name} is not valid TOML: {exc}") from exc
    table = f"env.{env}.kv_namespaces" if env else "kv_namespaces"
    scope: Any = data.get("env", {}).get(env, {}) if env else data
    header = re.compile(r"^\s*\[\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]\]",
                        re.MULTILINE)
    if "kv_namespaces" in scope and not header.search(text):
        raise ConfigEditError(
            f"{path.name} writes kv_namespaces inline; add the printed snippet to that list yourself")
    block = (f"\n[[{table}]]\nbinding = {_toml_string(binding)}\n"
             f"{id_field} = {_toml_string(namespace_id)}\n")
    return text + ("" if text.endswith("\n") or not text else "\n") + block


def _json(text: str, binding: str, id_field: str, namespace_id: str, env: str | None,
          path: Path) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigEditError(
            f"{path.name} has comments or is not plain JSON; add the printed snippet yourself "
            "(edgekv does not rewrite a file it would lose comments from)") from None
    if not isinstance(data, dict):
        raise ConfigEditError(f"{path.name} is not a JSON object")
    scope = data
    if env:
        scope = data.setdefault("env", {}).setdefault(env, {})
    entries = scope.setdefault("kv_namespaces", [])
    if not isinstance(entries, list):
        raise ConfigEditError(f'"kv_namespaces" in {path.name} is not an array')
    entries.append({"binding": binding, id_field: namespace_id})
    return json.dumps(data, indent="\t", ensure_ascii=False) + "\n"
