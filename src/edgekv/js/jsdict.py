"""``JsDict``: how a JavaScript object looks to Python code, on every path.

Cloudflare's Python SDK hands Worker code JS objects as dicts that also allow attribute
access. The KV binding's results (``getWithMetadata``, ``list``) and values received over
RPC are both this one type.
"""

from __future__ import annotations

from typing import Any

__all__ = ["JsDict"]


class JsDict(dict[str, Any]):
    """A ``dict`` whose keys can also be read and written as attributes (``result.cursor``).

    Real ``dict`` attributes win: ``result.keys`` is the method, so portable code reads
    ``result["keys"]`` (the same pitfall exists on Cloudflare). A missing attribute raises
    ``AttributeError``.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_py(self) -> JsDict:
        """Legacy ``JsProxy.to_py()``: the value already is a Python dict."""
        return self
