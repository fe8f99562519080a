"""Argument checks of the KV binding, with Cloudflare's exact texts (docs/kv-binding.md §2).

Binding-side checks (workerd) raise ``KVTypeError`` or a 414 ``KVError``; service-side checks
(the KV backend, simulated by Miniflare) raise ``KVError`` with the backend's status text.
"""

from __future__ import annotations

from typing import Any

from edgekv.errors import KVError, KVTypeError
from edgekv.js import number_to_string, to_string, undefined
from edgekv.kv.jsvalues import js_to_int32
from edgekv.limits import Limits

__all__ = [
    "check_bulk_key",
    "check_cache_ttl",
    "check_key",
    "check_key_bytes",
    "format_megabytes",
    "int_option",
    "key_length",
    "missing_argument",
    "option",
    "options_dict",
    "str_option",
]


_PARAM_TYPES = {
    ("get", 1): "string or Array",
    ("getWithMetadata", 1): "Array or string",
    ("put", 1): "string",
    ("put", 2): "string or JsObject",
    ("put", 3): "PutOptions",
    ("delete", 1): "string",
    ("list", 1): "ListOptions",
}


def missing_argument(method: str, index: int) -> KVTypeError:
    """Cloudflare's error for a missing or unconvertible argument (messages 8-14)."""
    expected = _PARAM_TYPES[(method, index)]
    return KVTypeError(
        f"Failed to execute '{method}' on 'KvNamespace': "
        f"parameter {index} is not of type '{expected}'."
    )


def key_length(key: str) -> int:
    """UTF-8 length as JS computes it (a lone surrogate counts 3 bytes, as WTF-8)."""
    if key.isascii():
        return len(key)
    return len(key.encode("utf-8", "surrogatepass"))


def check_key(key: str, op: str, limits: Limits) -> None:
    """Binding-side key checks in workerd's order: empty, ``.``, ``..``, then length.

    Then the service's URL decoding: a key with a lone surrogate fails with 400.
    """
    if not key:
        raise KVTypeError("Key name cannot be empty.")
    if key == ".":
        raise KVTypeError('"." is not allowed as a key name.')
    if key == "..":
        raise KVTypeError('".." is not allowed as a key name.')
    check_key_bytes(key, op, limits)


def check_bulk_key(key: str, limits: Limits) -> None:
    """The service's checks of one bulk-get key (messages 30-32)."""
    if key == "":
        raise KVError("GET_BULK", 400, "Key names must not be empty")
    if key in (".", ".."):
        raise KVError("GET_BULK", 400, f'Illegal key name "{key}". Please use a different name.')
    check_key_bytes(key, "GET_BULK", limits)


def check_key_bytes(key: str, op: str, limits: Limits) -> None:
    """The length limit (414, counted as UTF-8) and URL decoding (400) of a key or prefix."""
    length = key_length(key)
    if length > limits.max_key_size_bytes:
        raise KVError(
            op, 414,
            f"UTF-8 encoded length of {length} exceeds key length limit of "
            f"{limits.max_key_size_bytes}.",
        )
    if not key.isascii():
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            raise KVError(op, 400, "Could not URL-decode key name") from None


def check_cache_ttl(cache_ttl: int | None, op: str, limits: Limits) -> None:
    """The service's cacheTtl check (message 15): at least 30 seconds."""
    if cache_ttl is not None and cache_ttl < limits.min_cache_ttl_seconds:
        raise KVError(
            op, 400,
            f"Invalid cache_ttl of {cache_ttl}. Cache TTL must be at least "
            f"{limits.min_cache_ttl_seconds}.",
        )


def options_dict(
    options: Any, kwargs: dict[str, Any], method: str, index: int
) -> dict[str, Any]:
    """Merge a positional options object with keyword options (keywords win).

    ``None`` and a missing argument count as ``{}``; anything that is not a mapping raises
    Cloudflare's "parameter N is not of type ..." error.
    """
    if options is None or options is undefined:
        merged: dict[str, Any] = {}
    elif isinstance(options, dict):
        merged = dict(options)
    else:
        raise missing_argument(method, index)
    if kwargs:
        merged.update(kwargs)
    return merged


def option(opts: dict[str, Any], camel: str, snake: str | None = None) -> Any:
    """The value of an option given as camelCase or snake_case; ``undefined`` if absent."""
    if camel in opts:
        return opts[camel]
    if snake is not None and snake in opts:
        return opts[snake]
    return undefined


def int_option(opts: dict[str, Any], camel: str, snake: str | None = None) -> int | None:
    """An integer option converted like Web IDL ``int32``; ``None`` if not given."""
    value = option(opts, camel, snake)
    return None if value is undefined else js_to_int32(value)


def str_option(opts: dict[str, Any], name: str) -> str | None:
    """A string option (``prefix``, ``cursor``): ``None``/absent means not given."""
    value = opts.get(name)
    return None if value is None else to_string(value)


def format_megabytes(size_bytes: int) -> str:
    """A byte count in MB as JS prints the number (25 MiB -> ``25``, 1 KiB -> ``0.0009765625``)."""
    return number_to_string(size_bytes / (1024 * 1024))
