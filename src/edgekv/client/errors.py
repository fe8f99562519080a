"""What a remote KV call can fail with, worded as wrangler words it."""

from __future__ import annotations

from edgekv.errors import EdgeKVError

__all__ = ["ApiRequestFailed", "RemoteSetupError"]


class ApiRequestFailed(EdgeKVError):
    """The v4 API refused a request or could not be reached.

    The message is wrangler's: ``A request to the Cloudflare API (<path>) failed.`` then one
    ``<message> [code: N]`` line per API error; ``Failed to fetch <URL> - <status>: <text>``
    for a value read; ``Received a malformed response from the API`` for a reply that is not
    an envelope. ``status`` is the HTTP status (0 when no reply came), ``codes`` the API's
    error codes.
    """

    def __init__(self, message: str, *, status: int = 0, codes: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes


class RemoteSetupError(EdgeKVError):
    """``--remote`` cannot start: no credential, or no account to act on."""
