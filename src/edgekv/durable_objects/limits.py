"""Every numeric limit of Durable Objects, in one frozen object (docs/durable-objects.md,
"Limits").

``DEFAULT_DO_LIMITS`` are Cloudflare's limits; ``TESTING_DO_LIMITS`` shrinks value sizes so that
size tests stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_DO_LIMITS", "TESTING_DO_LIMITS", "DurableObjectLimits"]

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class DurableObjectLimits:
    """Limits enforced by ``ctx.storage`` and the object lifecycle."""

    max_keys_per_call: int = 128  # get([...]), put({...}), delete([...])
    max_key_size_bytes: int = 2 * KIB  # KV-backed objects
    max_value_size_bytes: int = 128 * KIB  # KV-backed objects, encoded value
    max_sqlite_entry_size_bytes: int = 2 * MIB  # SQLite-backed objects: key + encoded value
    block_concurrency_timeout_seconds: float = 30.0
    alarm_max_retries: int = 6
    alarm_first_retry_delay_seconds: float = 2.0  # then doubled on every retry
    pitr_enabled: bool = True  # point-in-time recovery history for SQLite-backed objects
    pitr_max_age_seconds: float = 30 * 24 * 3600.0  # Cloudflare keeps 30 days
    pitr_max_history_bytes: int = 256 * MIB  # per object: changesets and snapshots


DEFAULT_DO_LIMITS = DurableObjectLimits()
TESTING_DO_LIMITS = DurableObjectLimits(
    max_value_size_bytes=1 * KIB, max_sqlite_entry_size_bytes=2 * KIB
)
