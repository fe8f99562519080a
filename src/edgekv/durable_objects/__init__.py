"""Durable Objects on CPython: ids, stubs, serial execution, transactional storage, alarms.

The integrator's entry point is ``DurableObjectRuntime`` (see ``runtime.py``); user code sees
``DurableObjectNamespace`` (on ``env``), ``DurableObjectStub``, ``DurableObjectId`` and, in the
object, ``DurableObjectState`` (``ctx``) with ``DurableObjectStorage`` (``ctx.storage``).
This package does not import ``edgekv.runtime``: a Durable Object class is any class
constructed as ``cls(ctx, env)``.
"""

from __future__ import annotations

from edgekv.durable_objects.alarms import AlarmInfo
from edgekv.durable_objects.errors import (
    DataCloneError,
    DurableObjectAbort,
    DurableObjectError,
    DurableObjectRangeError,
    DurableObjectReset,
    DurableObjectTypeError,
    StoredValueError,
)
from edgekv.durable_objects.ids import DurableObjectId
from edgekv.durable_objects.limits import DEFAULT_DO_LIMITS, TESTING_DO_LIMITS, DurableObjectLimits
from edgekv.durable_objects.namespace import DurableObjectNamespace
from edgekv.durable_objects.runtime import DurableObjectRuntime
from edgekv.durable_objects.sql import SqlCursor, SqlRow, SqlStorage
from edgekv.durable_objects.state import DurableObjectState
from edgekv.durable_objects.storage import DurableObjectStorage, DurableObjectTransaction, SyncKV
from edgekv.durable_objects.stub import DurableObjectStub

__all__ = [
    "DEFAULT_DO_LIMITS",
    "TESTING_DO_LIMITS",
    "AlarmInfo",
    "DataCloneError",
    "DurableObjectAbort",
    "DurableObjectError",
    "DurableObjectId",
    "DurableObjectLimits",
    "DurableObjectNamespace",
    "DurableObjectRangeError",
    "DurableObjectReset",
    "DurableObjectRuntime",
    "DurableObjectState",
    "DurableObjectStorage",
    "DurableObjectStub",
    "DurableObjectTransaction",
    "DurableObjectTypeError",
    "SqlCursor",
    "SqlRow",
    "SqlStorage",
    "StoredValueError",
    "SyncKV",
]
