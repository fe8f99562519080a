"""tests/kv's model-based property test, with the namespace seen through one location's
edge cache: with every write made at that location, the cache must agree with the model
(read-your-writes, expiration wins, list reads the store) whatever the clock does."""

from __future__ import annotations

from edgekv.edge import CachedStore
from edgekv.limits import TESTING_LIMITS

from ...kv.test_properties import _SETTINGS, NAMESPACE, KVModelMachine
from .conftest import StatusCheckingKV


class EdgeMachine(KVModelMachine):
    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.store = CachedStore(self.store)
        self.kv = StatusCheckingKV(self.store, NAMESPACE, limits=TESTING_LIMITS)


TestEdgeAgreesWithModel = EdgeMachine.TestCase
TestEdgeAgreesWithModel.settings = _SETTINGS
