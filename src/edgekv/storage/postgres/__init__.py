"""``postgresql://``: the PostgreSQL backend shared by every location of a deployment.

- ``PostgresStore``: the ``Store`` with versions, tombstones and a change outbox announced
  by ``NOTIFY`` (store.py).
- ``ChangeListener``: one ``LISTEN`` connection per location that hands every change to a
  callback exactly once, catching up from the outbox after a lost connection (listener.py).
- ``LocationRegistry``: the locations of a deployment and its primary lease (locations.py).

Importing this package needs ``asyncpg`` (``pip install 'edgekv[postgres]'``).
"""

from edgekv.storage.postgres.listener import Change, ChangeListener, InvalidationTarget
from edgekv.storage.postgres.locations import Location, LocationRegistry, PrimaryLease
from edgekv.storage.postgres.store import PostgresStore

__all__ = [
    "Change",
    "ChangeListener",
    "InvalidationTarget",
    "Location",
    "LocationRegistry",
    "PostgresStore",
    "PrimaryLease",
]
