"""tests/kv's conformance cases, through an edge cache (fixtures in this folder's conftest)."""

from __future__ import annotations

from ...kv.test_conformance_get import *
from ...kv.test_conformance_write_list import *
