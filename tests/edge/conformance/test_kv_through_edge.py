"""tests/kv's conformance cases, through an edge cache (fixtures in this folder's conftest)."""

from __future__ import annotations

from ...kv.test_conformance_get import *  # noqa: F403
from ...kv.test_conformance_write_list import *  # noqa: F403
