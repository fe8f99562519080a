"""edgekv: Cloudflare Workers KV, Python Workers and Durable Objects on CPython."""

from __future__ import annotations

__version__ = "0.1.0"
