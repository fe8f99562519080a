"""The edgekv pytest plugin, registered through the ``pytest11`` entry point.

Its fixtures arrive with the Worker runtime; until then it registers nothing.
"""
