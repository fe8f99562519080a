"""Field validators with wrangler's exact messages, and the scalar fields they guard.

Each validator appends to a ``Diagnostics`` node and returns whether the value was valid, so
that a single pass reports every problem (workers-sdk ``validation-helpers.ts`` and
``validation.ts``). ``label`` is the field as wrangler names it in the message; ``path`` is the
full dotted path recorded on the ``Diagnostic`` (it includes ``env.<name>.`` in environments).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from edgekv.config.diagnostics import Diagnostics, js_json
from edgekv.config.model import DevSettings, Migration, RenamedClass, TransferredClass
from edgekv.js import typeof, undefined
from edgekv.suggest import did_you_mean

__all__ = [
    "check_optional",
    "check_required",
    "check_typed_array",
    "unexpected_fields",
    "validate_compatibility_date",
    "validate_dev",
    "validate_migrations",
    "validate_name",
    "validate_string",
    "validate_string_array",
]


_NAME_RE = re.compile(r"^$|^[a-z0-9_][a-z0-9\-_]*$")
_ISO_DATE_RE = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def check_required(
    d: Diagnostics,
    container: str,
    key: str,
    value: object,
    typ: str,
    choices: Iterable[object] | None = None,
    *,
    prefix: str = "",
) -> bool:
    """wrangler's ``validateRequiredProperty``: present, of JS type ``typ``, one of ``choices``."""
    label = f"{container}.{key}" if container else key
    path = prefix + label
    if value is undefined:
        d.error(f'"{label}" is a required field.', path)
        return False
    if typeof(value) != typ:
        d.error(f'Expected "{label}" to be of type {typ} but got {js_json(value)}.', path)
        return False
    if choices is not None:
        options = list(choices)
        if value not in options:
            d.error(
                f'Expected "{label}" field to be one of {js_json(options)} '
                f"but got {js_json(value)}.",
                path,
            )
            return False
    return True


def check_optional(
    d: Diagnostics,
    container: str,
    key: str,
    value: object,
    typ: str,
    choices: Iterable[object] | None = None,
    *,
    prefix: str = "",
) -> bool:
    """wrangler's ``validateOptionalProperty``: like ``check_required`` when present."""
    if value is undefined:
        return True
    return check_required(d, container, key, value, typ, choices, prefix=prefix)


def check_typed_array(
    d: Diagnostics, container: str, value: object, typ: str, *, prefix: str = ""
) -> bool:
    """wrangler's ``validateOptionalTypedArray``: absent, or a list of ``typ`` values."""
    if value is undefined:
        return True
    if not isinstance(value, list):
        d.error(f'Expected "{container}" to be an array of {typ}s but got {js_json(value)}',
                prefix + container)
        return False
    ok = True
    for i, item in enumerate(value):
        # wrangler builds the item label as `${container}.[${i}]`; kept for identical text.
        ok = check_required(d, container, f"[{i}]", item, typ, prefix=prefix) and ok
    return ok


def unexpected_fields(
    d: Diagnostics, label: str, keys: Iterable[str], known: Iterable[str], *, path: str = ""
) -> bool:
    """Warn about ``keys`` not in ``known`` (wrangler's ``validateAdditionalProperties``)."""
    known_set = set(known)
    extra = [k for k in keys if k not in known_set]
    if not extra:
        return True
    names = ",".join(f'"{k}"' for k in extra)
    hints = ""
    for key in extra:
        close = did_you_mean(key, known_set)
        if close is not None:
            hints += f'\n  Did you mean "{close}" instead of "{key}"?'
    d.warn(
        f"Unexpected fields found in {label} field: {names}\n"
        "  If this is a new configuration option, please update your edgekv version." + hints,
        path or None,
    )
    return False


def validate_string(d: Diagnostics, label: str, value: object, *, prefix: str = "") -> bool:
    """wrangler's ``isString``."""
    if value is not undefined and not isinstance(value, str):
        d.error(f'Expected "{label}" to be of type string but got {js_json(value)}.',
                prefix + label)
        return False
    return True


def validate_string_array(d: Diagnostics, label: str, value: object, *, prefix: str = "") -> bool:
    """wrangler's ``isStringArray``."""
    if value is not undefined and (
        not isinstance(value, list) or any(not isinstance(v, str) for v in value)
    ):
        d.error(f'Expected "{label}" to be of type string array but got {js_json(value)}.',
                prefix + label)
        return False
    return True


def validate_name(d: Diagnostics, label: str, value: object, *, prefix: str = "") -> bool:
    """wrangler's ``isValidName``: empty, or ``^[a-z0-9_][a-z0-9-_]*$``."""
    if value is undefined or (isinstance(value, str) and _NAME_RE.match(value)):
        return True
    d.error(
        f'Expected "{label}" to be of type string, alphanumeric and lowercase with dashes only '
        f"but got {js_json(value)}.",
        prefix + label,
    )
    return False


def validate_compatibility_date(
    d: Diagnostics, label: str, value: object, *, prefix: str = ""
) -> bool:
    """wrangler's ``validateCompatibilityDate``: a string in ISO-8601 date form."""
    if value is undefined:
        return True
    if not isinstance(value, str):
        d.error(f'Expected "{label}" to be of type string but got {js_json(value)}.',
                prefix + label)
        return False
    ok = True
    if "–" in value or "—" in value:
        d.error(
            f'"{label}" field should use ISO-8601 accepted hyphens (-) rather than en-dashes (–) '
            "or em-dashes (—).",
            prefix + label,
        )
        ok = False
    if not _is_iso_date(value.replace("–", "-").replace("—", "-")):
        d.error(
            f'"{label}" field should be a valid ISO-8601 date (YYYY-MM-DD), but got '
            f"{js_json(value)}.",
            prefix + label,
        )
        ok = False
    return ok


def _is_iso_date(text: str) -> bool:
    if not _ISO_DATE_RE.match(text):
        return False
    parts = text[:10].split("-")
    try:
        _dt.date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1,
                 int(parts[2]) if len(parts) > 2 else 1)
    except ValueError:
        return False
    return True


_DEV_KEYS = (
    "ip", "port", "inspector_port", "inspector_ip", "local_protocol", "upstream_protocol",
    "host", "enable_containers", "container_engine", "generate_types",
)


def validate_dev(d: Diagnostics, raw: object) -> DevSettings:
    """Validate the top-level ``dev`` table (wrangler's ``normalizeAndValidateDev``)."""
    if raw is undefined:
        return DevSettings()
    if not isinstance(raw, dict):
        d.error(f'Expected "dev" to be of type object but got {js_json(raw)}.', "dev")
        return DevSettings()
    get = raw.get
    unexpected_fields(d, "dev", raw.keys(), _DEV_KEYS, path="dev")
    checks = [
        ("ip", "string", None), ("port", "number", None), ("inspector_port", "number", None),
        ("inspector_ip", "string", None), ("local_protocol", "string", ["http", "https"]),
        ("upstream_protocol", "string", ["http", "https"]), ("host", "string", None),
        ("enable_containers", "boolean", None), ("container_engine", "string", None),
        ("generate_types", "boolean", None),
    ]
    valid = {
        key: check_optional(d, "dev", key, get(key, undefined), typ, choices)
        for key, typ, choices in checks
    }

    def pick(key: str, default: Any) -> Any:
        value = get(key, undefined)
        return default if value is undefined or not valid[key] else value

    local_protocol = pick("local_protocol", "http")
    return DevSettings(
        ip=pick("ip", "localhost"),
        port=pick("port", None),
        local_protocol=local_protocol,
        upstream_protocol=pick("upstream_protocol", local_protocol),
        host=pick("host", None),
        inspector_port=pick("inspector_port", None),
        inspector_ip=pick("inspector_ip", None),
        enable_containers=pick("enable_containers", True),
        container_engine=pick("container_engine", None),
        generate_types=pick("generate_types", False),
    )


def validate_migrations(
    d: Diagnostics, label: str, value: object, *, prefix: str = ""
) -> tuple[Migration, ...] | None:
    """Validate ``migrations`` (wrangler's ``validateMigrations``); None when invalid."""
    if value is undefined:
        return ()
    if not isinstance(value, list):
        d.error(f'The optional "{label}" field should be an array, but got {js_json(value)}',
                prefix + label)
        return None
    valid = True
    result = []
    for i, entry in enumerate(value):
        where = f"migrations[{i}]"
        if not isinstance(entry, dict):
            d.error(f'Expected "{where}" to be an object but got {js_json(entry)}.',
                    prefix + where)
            valid = False
            continue
        migration = _validate_migration(d, where, entry, prefix)
        if migration is None:
            valid = False
        else:
            result.append(migration)
    return tuple(result) if valid else None


_MIGRATION_KEYS = (
    "tag", "new_classes", "new_sqlite_classes", "renamed_classes", "deleted_classes",
    "transferred_classes",
)


def _validate_migration(
    d: Diagnostics, where: str, entry: Mapping[str, Any], prefix: str
) -> Migration | None:
    get = entry.get
    ok = unexpected_fields(d, "migrations", entry.keys(), _MIGRATION_KEYS, path=prefix + where)
    ok = check_required(d, where, "tag", get("tag", undefined), "string", prefix=prefix) and ok
    for key in ("new_classes", "new_sqlite_classes"):
        ok = check_typed_array(d, f"{where}.{key}", get(key, undefined), "string",
                               prefix=prefix) and ok
    renamed = _class_moves(d, where, "renamed_classes", get("renamed_classes", undefined),
                           ("from", "to"), prefix)
    transferred = _class_moves(d, where, "transferred_classes",
                               get("transferred_classes", undefined),
                               ("from", "from_script", "to"), prefix)
    ok = check_typed_array(d, f"{where}.deleted_classes", get("deleted_classes", undefined),
                           "string", prefix=prefix) and ok
    if not ok or renamed is None or transferred is None:
        return None
    return Migration(
        tag=entry["tag"],
        new_classes=tuple(get("new_classes", ())),
        new_sqlite_classes=tuple(get("new_sqlite_classes", ())),
        renamed_classes=tuple(RenamedClass(c["from"], c["to"]) for c in renamed),
        deleted_classes=tuple(get("deleted_classes", ())),
        transferred_classes=tuple(
            TransferredClass(c["from"], c["from_script"], c["to"]) for c in transferred
        ),
    )


def _class_moves(
    d: Diagnostics, where: str, key: str, value: object, fields: tuple[str, ...], prefix: str
) -> list[dict[str, str]] | None:
    if value is undefined:
        return []
    if isinstance(value, list) and all(
        isinstance(c, dict) and all(isinstance(c.get(f), str) for f in fields) for c in value
    ):
        return value
    shape = "{" + ", ".join(f"{f}: string" for f in fields) + "}"
    d.error(
        f'Expected "{where}.{key}" to be an array of "{shape}" objects but got {js_json(value)}.',
        f"{prefix}{where}.{key}",
    )
    return None
