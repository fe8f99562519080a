"""Session-wide fixtures: one throwaway PostgreSQL cluster for every test that needs one.

Tests that use ``postgres_cluster`` skip only when PostgreSQL is not installed *and* ``CI``
is unset; in CI (``.ci/run`` installs PostgreSQL) a missing server is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.pg import PostgresCluster, find_bindir


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: .ci/run must install it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL primary on a free port for the whole session (tests/pg.py)."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        _unavailable("asyncpg is not installed (pip install -e '.[test]')")
    bindir = find_bindir()
    if bindir is None:
        _unavailable("PostgreSQL is not installed (no initdb/pg_ctl found; apt-get install postgresql)")
    assert bindir is not None
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(postgres_cluster: PostgresCluster) -> str:
    """A store URL on a schema of its own (created by the store on first use)."""
    return postgres_cluster.url(postgres_cluster.new_schema())
