"""``workers.workflows`` (edgekv implementation)."""

from edgekv.runtime.entrypoints import WorkflowEntrypoint
from edgekv.runtime.workflows import NonRetryableError

__all__ = ["NonRetryableError", "WorkflowEntrypoint"]
