"""``python -m edgekv``: the same as the ``edgekv`` command."""

from edgekv.cli import main

main()
