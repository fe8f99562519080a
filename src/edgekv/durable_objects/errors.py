"""Durable Object errors, under edgekv's single root ``EdgeKVError``.

::

    EdgeKVError
    └── DurableObjectError               JavaScript ``Error`` raised by a DO API
        ├── DurableObjectTypeError       JavaScript ``TypeError`` (also a Python ``TypeError``)
        │   └── DataCloneError           a value the structured-clone codec cannot copy
        ├── DurableObjectRangeError      JavaScript ``RangeError`` (also a Python ``ValueError``)
        ├── StoredValueError             a stored payload is not a valid codec document
        └── DurableObjectReset           the object was reset (blockConcurrencyWhile, abort)

    BaseException
    └── DurableObjectAbort               raised by ``ctx.abort()`` (a ``BaseException``, like the
                                         Python Workers SDK, so ``except Exception`` cannot eat it)

``str(error)`` keeps the text workerd uses, byte for byte, wherever workerd defines one.
"""

from __future__ import annotations

from edgekv.errors import EdgeKVError

__all__ = [
    "DataCloneError",
    "DurableObjectAbort",
    "DurableObjectError",
    "DurableObjectRangeError",
    "DurableObjectReset",
    "DurableObjectTypeError",
    "StoredValueError",
]


class DurableObjectError(EdgeKVError):
    """A Durable Object API failed where JavaScript throws a plain ``Error``."""


class DurableObjectTypeError(DurableObjectError, TypeError):
    """Raised where workerd throws ``TypeError`` (bad ids, bad options, ...)."""


class DurableObjectRangeError(DurableObjectError, ValueError):
    """Raised where workerd throws ``RangeError`` (too many keys, keys or values too large)."""


class DataCloneError(DurableObjectTypeError):
    """A value cannot be structured-cloned (stored, or passed over RPC)."""


class StoredValueError(DurableObjectError):
    """A stored payload could not be decoded; nothing in it was executed."""


class DurableObjectReset(DurableObjectError):
    """The object was reset; the next event constructs a fresh instance.

    ``durableObjectReset`` is ``True``, the property workerd sets on such errors.
    """

    durableObjectReset = True


class DurableObjectAbort(BaseException):
    """Raised inside the object by ``ctx.abort(reason)``; the object is reset."""
