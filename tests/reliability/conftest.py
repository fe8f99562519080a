"""The Durable Object factories of tests/durable_objects serve the attack suite too."""

from tests.durable_objects.conftest import clock, make_runtime  # noqa: F401
