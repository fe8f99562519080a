"""Local secrets from ``.dev.vars`` and ``.env`` files, with wrangler's precedence.

workers-sdk ``dev/dev-vars.ts`` ``getVarsForDev``, next to the config file (or in cwd):

1. With an environment, ``.dev.vars.<env>`` if it exists, else ``.dev.vars``. When one of
   these is found **only that file** is used: no merging, ``.env`` ignored.
2. Otherwise (unless ``CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV=false``) the ``.env`` files
   are merged, later overriding earlier: ``.env``, ``.env.local``, ``.env.<env>``,
   ``.env.<env>.local``; then ``${VAR}`` references are expanded (dotenv-expand), and with
   ``CLOUDFLARE_INCLUDE_PROCESS_ENV=true`` the process environment is included and wins.

Parsing follows the ``dotenv`` npm package (v16) line grammar, so files mean the same thing
to wrangler and to edgekv.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

__all__ = ["DevVars", "expand_env", "load_dev_vars", "parse_dotenv"]

# dotenv v16 `LINE`; `\w` is ASCII in JavaScript, hence the explicit class.
_LINE = re.compile(
    r"(?:^|^)\s*(?:export\s+)?([A-Za-z0-9_.-]+)(?:\s*=\s*?|:\s+?)"
    r"(\s*'(?:\\'|[^'])*'|\s*\"(?:\\\"|[^\"])*\"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?"
    r"\s*(?:#.*)?(?:$|$)",
    re.MULTILINE,
)
_QUOTED = re.compile(r"^(['\"`])([\s\S]*)\1$", re.MULTILINE)
_REFERENCE = re.compile(r"(\\)?\$\{([A-Za-z0-9_]+)(?::?-([^}]*))?\}|(\\)?\$([A-Za-z0-9_]+)")


@dataclass(frozen=True)
class DevVars:
    """Secrets for local development: ``values`` and the files they came from, in load order.

    ``missing_required`` lists names from ``secrets.required`` that no file provides.
    """

    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    sources: tuple[Path, ...] = ()
    missing_required: tuple[str, ...] = ()

    def log_lines(self, cwd: Path | None = None) -> list[str]:
        """wrangler's ``Using vars defined in <file>`` lines, paths relative to ``cwd``."""
        base = (cwd or Path.cwd()).resolve()
        return [f"Using vars defined in {os.path.relpath(p, base)}" for p in self.sources]


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse dotenv ``text`` exactly as ``dotenv.parse`` does; later keys win."""
    text = re.sub(r"\r\n?", "\n", text)
    result: dict[str, str] = {}
    for match in _LINE.finditer(text):
        value = (match.group(2) or "").strip()
        quote = value[:1]
        value = _QUOTED.sub(r"\2", value)
        if quote == '"':
            value = value.replace("\\n", "\n").replace("\\r", "\r")
        result[match.group(1)] = value
    return result


def expand_env(parsed: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    """dotenv-expand: resolve ``${VAR}``, ``${VAR:-default}`` and ``$VAR`` in ``parsed``.

    Names already in ``base`` keep their ``base`` value; references look in ``base`` first,
    then in ``parsed``; ``\\$`` escapes a dollar sign; unknown references become empty.
    """
    out = dict(base)

    def resolve(value: str, seen: frozenset[str]) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) or m.group(4):
                return m.group(0)[1:]
            name = m.group(2) or m.group(5)
            default = m.group(3)
            if name in out:
                found = out[name]
            elif name in parsed and name not in seen:
                found = resolve(parsed[name], seen | {name})
            else:
                found = ""
            return found if found or default is None else resolve(default, seen)

        return _REFERENCE.sub(sub, value)

    for name, value in parsed.items():
        if name not in out:
            out[name] = resolve(value, frozenset({name}))
    return out


def _env_flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name)
    if value is None:
        return default
    return value.strip().lower() == "true"


def load_dev_vars(
    directory: str | Path,
    env: str | None = None,
    *,
    vars: Mapping[str, object] | None = None,
    required: Iterable[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> DevVars:
    """Read local secrets from ``directory`` with wrangler's file choice and precedence.

    ``vars`` are the config's vars: with ``required`` (``secrets.required``), only required
    names and names overriding an existing var are kept from the files. ``environ`` defaults
    to ``os.environ`` and supplies the ``CLOUDFLARE_*`` switches. Unreadable files raise
    ``OSError``; malformed lines are skipped, as dotenv does.
    """
    directory = Path(directory)
    environ = os.environ if environ is None else environ
    candidates = ([directory / f".dev.vars.{env}"] if env else []) + [directory / ".dev.vars"]
    chosen = next((p for p in candidates if p.is_file()), None)
    if chosen is not None:
        values = parse_dotenv(chosen.read_text(encoding="utf-8"))
        sources: tuple[Path, ...] = (chosen,)
    elif _env_flag(environ, "CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV", True):
        names = [".env", ".env.local"] + ([f".env.{env}", f".env.{env}.local"] if env else [])
        merged: dict[str, str] = {}
        found = []
        for name in names:
            path = directory / name
            if path.is_file():
                merged.update(parse_dotenv(path.read_text(encoding="utf-8")))
                found.append(path)
        include = _env_flag(environ, "CLOUDFLARE_INCLUDE_PROCESS_ENV", False)
        base = dict(environ) if include else {}
        values = expand_env(merged, base)
        sources = tuple(found)
    else:
        values, sources = {}, ()
    missing: tuple[str, ...] = ()
    if required is not None:
        wanted = set(required) | set(vars or {})
        values = {k: v for k, v in values.items() if k in wanted}
        missing = tuple(name for name in required if name not in values)
    return DevVars(MappingProxyType(values), sources, missing)
