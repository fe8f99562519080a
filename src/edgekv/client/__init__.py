"""Transports the CLI uses to reach KV data. Today: the project's local store, in process."""

from edgekv.client.local import LocalKV

__all__ = ["LocalKV"]
