"""``workers.rpc``: the SDK's conversion helpers, and its fetcher wrapper type.

``_FetcherWrapper`` is the class of Fetcher bindings; on edgekv that is ``env.ASSETS``.
"""

from edgekv.runtime.assets import AssetsBinding as _FetcherWrapper
from edgekv.runtime.rpc import JsDict, python_from_rpc, python_to_rpc

__all__ = ["JsDict", "_FetcherWrapper", "python_from_rpc", "python_to_rpc"]
