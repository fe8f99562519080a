"""Workflow helpers exported as ``workers.workflows``."""

from __future__ import annotations

__all__ = ["NonRetryableError"]


class NonRetryableError(Exception):
    """Raised by a Workflow step to fail it without retrying (Cloudflare's class and name)."""
