"""edgekv's ``pyodide.http``: ``pyfetch`` returns edgekv's ``Response``."""

from typing import Any

from edgekv.runtime.web.fetch import fetch
from edgekv.runtime.web.response import Response

FetchResponse = Response

__all__ = ["FetchResponse", "pyfetch"]


async def pyfetch(url: Any, **kwargs: Any) -> Response:
    """``await pyfetch(url, method=..., headers=..., body=...)``."""
    return await fetch(url, **kwargs)
