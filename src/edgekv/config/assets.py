"""The ``assets`` and ``triggers`` fields, and the bindings edgekv does not run.

``assets`` and ``triggers`` are inheritable (an environment may override them). Messages are
wrangler's (workers-utils ``validation.ts``: ``validateAssetsConfig``, ``validateTriggers``);
an unparsable cron expression is edgekv's own error, since Cloudflare rejects it at deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgekv.config.cron import parse_cron
from edgekv.config.diagnostics import Diagnostics, js_json
from edgekv.config.model import AssetsConfig, UnsupportedBinding
from edgekv.config.validation import (
    check_optional,
    check_typed_array,
    unexpected_fields,
)
from edgekv.js import undefined

__all__ = [
    "HTML_HANDLING",
    "NOT_FOUND_HANDLING",
    "unsupported_bindings",
    "validate_assets",
    "validate_triggers",
]

HTML_HANDLING = ("auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none")
NOT_FOUND_HANDLING = ("single-page-application", "404-page", "none")
_ASSETS_KEYS = ("directory", "binding", "html_handling", "not_found_handling",
                "run_worker_first")


def validate_assets(
    d: Diagnostics, value: object, *, prefix: str = "", config_dir: Path | None = None
) -> AssetsConfig | None:
    """Validate a present ``assets`` value; None when it is invalid."""
    field = f"{prefix}assets"
    if not isinstance(value, dict):
        d.error(f'"{field}" should be an object, but got value {js_json(field)} of type '
                f"{'object' if value is None else type(value).__name__}", field)
        return None
    get = value.get
    ok = check_optional(d, field, "directory", get("directory", undefined), "string")
    ok = check_optional(d, field, "binding", get("binding", undefined), "string") and ok
    ok = check_optional(d, field, "html_handling", get("html_handling", undefined), "string",
                        HTML_HANDLING) and ok
    ok = check_optional(d, field, "not_found_handling", get("not_found_handling", undefined),
                        "string", NOT_FOUND_HANDLING) and ok
    first = get("run_worker_first", undefined)
    run_first: bool | tuple[str, ...] = False
    if isinstance(first, bool):
        run_first = first
    elif isinstance(first, list):
        if check_typed_array(d, "assets.run_worker_first", first, "string"):
            run_first = tuple(first)
        else:
            ok = False
    elif first is not undefined:
        d.error(f'The field "{field}.run_worker_first" should be an array of strings or a '
                f"boolean, but got {js_json(first)}.", f"{field}.run_worker_first")
        ok = False
    unexpected_fields(d, field, value.keys(), _ASSETS_KEYS, path=field)
    if not ok:
        return None
    return AssetsConfig(
        directory=get("directory"),
        binding=get("binding"),
        html_handling=get("html_handling", "auto-trailing-slash"),
        not_found_handling=get("not_found_handling", "none"),
        run_worker_first=run_first,
        config_dir=config_dir,
    )


def validate_triggers(d: Diagnostics, value: object, *, prefix: str = "") -> tuple[str, ...]:
    """Validate a present ``triggers`` value; returns its cron expressions."""
    field = f"{prefix}triggers"
    if not isinstance(value, dict):
        d.error(f'Expected "{field}" to be of type object but got {js_json(value)}.', field)
        return ()
    crons = value.get("crons", undefined)
    if crons is undefined:
        return ()
    if not isinstance(crons, list):
        d.error(f'Expected "{field}.crons" to be of type array, but got {js_json(value)}.',
                f"{field}.crons")
        return ()
    result: list[str] = []
    for i, cron in enumerate(crons):
        if not isinstance(cron, str):
            d.error(f'Expected "{field}.crons[{i}]" to be of type string but got '
                    f"{js_json(cron)}.", f"{field}.crons[{i}]")
            continue
        try:
            parse_cron(cron)
        except ValueError as exc:
            d.error(f'"{field}.crons[{i}]" is not a valid cron expression ({js_json(cron)}): '
                    f"{exc}.", f"{field}.crons[{i}]")
            continue
        result.append(cron)
    return tuple(result)


def _names(entry: object) -> list[str]:
    if isinstance(entry, dict):
        for key in ("binding", "name"):
            if isinstance(entry.get(key), str):
                return [entry[key]]
    return []


def unsupported_bindings(raw_env: Mapping[str, Any], kinds: frozenset[str]) -> tuple[
    UnsupportedBinding, ...
]:
    """The bindings of kinds edgekv does not run, with the names the Worker would read."""
    found: list[UnsupportedBinding] = []
    for kind in sorted(kinds & raw_env.keys()):
        value = raw_env[kind]
        if isinstance(value, list):
            for i, entry in enumerate(value):
                found += [UnsupportedBinding(kind, n, f"{kind}[{i}]") for n in _names(entry)]
        elif isinstance(value, dict):
            found += [UnsupportedBinding(kind, n, kind) for n in _names(value)]
            for sub in ("bindings", "producers"):
                entries = value.get(sub)
                if isinstance(entries, list):
                    for i, entry in enumerate(entries):
                        found += [UnsupportedBinding(kind, n, f"{kind}.{sub}[{i}]")
                                  for n in _names(entry)]
    return tuple(found)
