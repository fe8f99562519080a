"""edgekv's ``pyodide`` package stub: ``pyodide.ffi`` and ``pyodide.http`` only."""

# The Pyodide line Cloudflare runs for Python 3.13 Workers (jsnull semantics).
__version__ = "0.28.3"

__all__ = ["__version__"]
