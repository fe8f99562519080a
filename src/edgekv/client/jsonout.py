"""JSON text as wrangler prints it (``JSON.stringify(value, null, 2)``), streamable."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from edgekv.js import stringify

__all__ = ["apretty_array", "pretty", "pretty_array_lines", "write_pretty_array"]


def pretty(value: Any, indent: int = 2) -> str:
    """``JSON.stringify(value, null, indent)`` (V8's, from ``edgekv.js``), never ``undefined``
    for the values wrangler prints."""
    text = stringify(value, None, indent)
    return "undefined" if text is None else text


def pretty_array_lines(items: Iterable[Any]) -> Iterator[str]:
    """The text of ``pretty(list(items))`` in pieces, without holding the list in memory."""
    first = True
    for item in items:
        body = pretty(item).replace("\n", "\n  ")
        yield ("[\n  " if first else ",\n  ") + body
        first = False
    yield "[]" if first else "\n]"


async def apretty_array(items: AsyncIterable[Any]) -> AsyncIterator[str]:
    """Like ``pretty_array_lines`` for an async source of items."""
    first = True
    async for item in items:
        body = pretty(item).replace("\n", "\n  ")
        yield ("[\n  " if first else ",\n  ") + body
        first = False
    yield "[]" if first else "\n]"


async def write_pretty_array(items: AsyncIterable[Any], write: Callable[[str], Any]) -> None:
    """Write ``pretty(list(items))`` plus a newline through ``write``, in batches."""
    pieces: list[str] = []
    async for piece in apretty_array(items):
        pieces.append(piece)
        if len(pieces) >= 512:
            write("".join(pieces))
            pieces.clear()
    write("".join(pieces) + "\n")
