"""Cloudflare's v4 envelope, its error codes, and the one exception the handlers raise.

Every JSON reply is ``{"success", "errors", "messages", "result"[, "result_info"]}``; errors
are ``{"code", "message"}`` with codes of at least 1000. The codes used (docs/rest-api.md):

=====  ====  ==================================================================
code   HTTP  meaning
=====  ====  ==================================================================
10000  403   authentication error: no valid credential, another account, or a
             read-only token writing (wrangler then diagnoses the credential)
1000   401   ``/user/tokens/verify`` with an unknown, expired or revoked token
9109   403   ``/user`` without a valid credential (wrangler accepts this code there)
10001  400   bad input (a query, body or value the KV rules refuse)
10009  404   key not found
10013  404   namespace not found
10014  400   a namespace with this account ID and title already exists
10026  400   the account has its 1,000 namespaces
10005  413   the request body is too large
7000   404   no route for that URI
7001   405   method not allowed for this URI
10043  500   the store failed (the request can be retried)
=====  ====  ==================================================================
"""

from __future__ import annotations

from typing import Any

from edgekv.errors import EdgeKVError

__all__ = ["ApiError", "failure", "success"]


class ApiError(EdgeKVError):
    """An API failure: HTTP ``status``, envelope ``code`` and ``message``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def envelope(self) -> dict[str, Any]:
        return failure(self.code, self.message)


def success(result: Any, result_info: dict[str, Any] | None = None,
            messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A successful envelope."""
    body: dict[str, Any] = {"success": True, "errors": [], "messages": messages or [],
                            "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def failure(code: int, message: str) -> dict[str, Any]:
    """A failed envelope with one error."""
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [],
            "result": None}


AUTH_ERROR = ApiError(403, 10000, "Authentication error")
