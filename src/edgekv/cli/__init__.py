"""The ``edgekv`` command line: thin click commands that call the library and print."""

from edgekv.cli.app import main

__all__ = ["main"]
