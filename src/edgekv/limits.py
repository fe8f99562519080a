"""Every numeric limit of Workers KV, in one frozen object.

``DEFAULT_LIMITS`` are Cloudflare's production limits (docs/kv-binding.md §7).
``TESTING_LIMITS`` shrinks the value and bulk-response sizes to 1 KiB, as Miniflare's
test mode does, so that size tests stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "TESTING_LIMITS", "Limits"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits enforced by the KV binding and the KV service it talks to."""

    max_key_size_bytes: int = 512
    max_value_size_bytes: int = 25 * MIB  # 26,214,400, inclusive
    max_metadata_size_bytes: int = 1024
    min_expiration_ttl_seconds: int = 60
    min_cache_ttl_seconds: int = 30  # 60 before 2026-01-30
    default_cache_ttl_seconds: int = 60
    max_list_limit: int = 1000
    max_bulk_keys: int = 100
    max_bulk_response_bytes: int = 25 * MIB


DEFAULT_LIMITS = Limits()
TESTING_LIMITS = Limits(max_value_size_bytes=1024, max_bulk_response_bytes=1024)
