"""List cursors: standard base64 (with padding) of the UTF-8 name of the last key returned.

This is Miniflare's format; the cursor means "start strictly after this key". Decoding is
lenient like Node's ``Buffer.from(s, "base64")``: characters outside the alphabet are
dropped, so a malformed cursor never raises (it starts after some arbitrary string).
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["decode_cursor", "encode_cursor"]

_NOT_B64 = re.compile(r"[^A-Za-z0-9+/]")


def encode_cursor(last_key: str) -> str:
    """The cursor that continues after ``last_key``."""
    return base64.b64encode(last_key.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: str) -> str:
    """The key a cursor starts after; ``""`` (the beginning) for an empty cursor."""
    text = _NOT_B64.sub("", cursor.replace("-", "+").replace("_", "/"))
    text = text[: len(text) - len(text) % 4 if len(text) % 4 == 1 else len(text)]
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return ""
    return raw.decode("utf-8", "replace")
