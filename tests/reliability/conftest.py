"""The Durable Object factories of tests/durable_objects and the ``edgekv dev`` launcher of
tests/cli serve the attack suite too."""

from tests.cli.test_dev_command import start_dev  # noqa: F401
from tests.durable_objects.conftest import clock, make_runtime  # noqa: F401
