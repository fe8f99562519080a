"""``workers.workflows`` (edgekv implementation)."""

from edgekv.runtime.workflows import NonRetryableError

__all__ = ["NonRetryableError"]
