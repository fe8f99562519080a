"""The edge tier: one location's read-through cache in front of the central store.

``CachedStore`` wraps the authoritative ``Store`` (a ``Store`` itself, so the KV binding
uses it unchanged); ``EdgeCache`` holds the entries; ``Invalidator`` applies change notices;
``VersionedStore`` is the optional store protocol that lets notices compare versions.
The contract is described in docs/edge-cache.md.
"""

from __future__ import annotations

from edgekv.edge.cache import EdgeCache, Entry
from edgekv.edge.disk import DiskTier
from edgekv.edge.invalidation import Invalidator
from edgekv.edge.metrics import EdgeMetrics, render_prometheus
from edgekv.edge.store import HIT, MISS, REVALIDATE, STALE, CachedStore, EdgePolicy
from edgekv.edge.versions import Change, Versioned, VersionedStore, VersioningStore

__all__ = [
    "HIT",
    "MISS",
    "REVALIDATE",
    "STALE",
    "CachedStore",
    "Change",
    "DiskTier",
    "EdgeCache",
    "EdgeMetrics",
    "EdgePolicy",
    "Entry",
    "Invalidator",
    "Versioned",
    "VersionedStore",
    "VersioningStore",
    "render_prometheus",
]
