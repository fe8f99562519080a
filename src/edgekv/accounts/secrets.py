"""Secrets: generation, digests and comparison; and the durations ``--expires-in`` takes.

API tokens and global keys are random (240 and 148 bits), so a plain SHA-256 digest is
the right way to store them: a slow password hash protects guessable secrets, and these
cannot be guessed. Digests are compared with ``hmac.compare_digest`` (constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["digest", "digests_match", "new_api_key", "new_hex_id", "new_token", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def new_token() -> str:
    """A new API token: 40 URL-safe characters, the length of Cloudflare's tokens."""
    return secrets.token_urlsafe(30)


def new_api_key() -> str:
    """A new global API key: 37 lowercase hex digits, the shape of Cloudflare's keys."""
    return secrets.token_hex(19)[:37]


def new_hex_id() -> str:
    """A new 32-hex-digit id (accounts, tokens, namespaces)."""
    return secrets.token_hex(16)


def digest(secret: str) -> str:
    """The SHA-256 hex digest a secret is stored as."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def digests_match(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored``, compared in constant time."""
    return hmac.compare_digest(digest(secret), stored)


def parse_duration(text: str) -> int:
    """Seconds in ``30d``, ``12h``, ``90m``, ``45s`` or ``2w``. Raises ``ValueError`` naming
    the accepted forms."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f"invalid duration {text!r}: use a positive number followed by s, m, h, d or w "
            "(e.g. 90m, 12h, 30d)"
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
