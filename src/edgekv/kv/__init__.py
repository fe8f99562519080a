"""The Workers KV namespace binding."""

from __future__ import annotations

from edgekv.js import JsDict
from edgekv.kv.namespace import KVNamespace
from edgekv.kv.results import ByteStream

__all__ = ["ByteStream", "JsDict", "KVNamespace"]
