"""The account tests run on both storage backends (the PostgreSQL one joins when present)."""

from tests.storage.conftest import backend, clock, make_store, store  # noqa: F401
