"""Tracebacks of the Worker's own code, and the dev server's HTML error page.

A Worker author debugging a failure wants the frames of *their* files: the import machinery
and edgekv's dispatch code above them are noise (Cloudflare shows no runtime frames either).
:func:`user_traceback` formats an exception with those frames removed, following
``__cause__``/``__context__`` chains. If nothing is left (the error is edgekv's own), the full
traceback is kept, so an edgekv bug is never hidden.

:func:`error_page` renders that text as the 500 page ``edgekv dev`` answers with (everything
html-escaped: an exception message may contain markup from the request).
"""

from __future__ import annotations

import html
import traceback
from pathlib import Path

__all__ = ["error_page_html", "is_internal_frame", "user_traceback"]

_EDGEKV_DIR = str(Path(__file__).resolve().parent.parent)  # .../edgekv (shims included)


def is_internal_frame(filename: str) -> bool:
    """Whether a frame belongs to edgekv's runtime or the import system, not to the Worker."""
    if filename.startswith("<frozen importlib"):
        return True
    # The shims (``workers``, ``js``) live under edgekv too: their frames are the SDK's and
    # are dropped like the rest of the runtime.
    return filename.startswith(_EDGEKV_DIR)


def _strip(te: traceback.TracebackException, seen: set[int]) -> bool:
    """Remove internal frames in place (whole chain); return whether any user frame remains."""
    if id(te) in seen:
        return False
    seen.add(id(te))
    frames = [f for f in te.stack if not is_internal_frame(f.filename)]
    kept = bool(frames)
    te.stack = traceback.StackSummary.from_list(frames)
    for linked in (te.__cause__, te.__context__):
        if linked is not None:
            kept = _strip(linked, seen) or kept
    for sub in getattr(te, "exceptions", None) or ():
        kept = _strip(sub, seen) or kept
    return kept


def user_traceback(exc: BaseException) -> str:
    """``exc`` formatted like Python does, without edgekv and importlib frames.

    A ``SyntaxError`` keeps its file/line/caret display. When no frame of user code is left,
    the full traceback is returned instead.
    """
    te = traceback.TracebackException.from_exception(exc)
    is_syntax = isinstance(exc, SyntaxError)
    if _strip(te, set()) or is_syntax:
        return "".join(te.format())
    return "".join(traceback.format_exception(exc))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
h1 {{ font-size: 1.3rem; color: #b00020; }}
pre {{ background: #f6f6f6; border: 1px solid #ddd; padding: 1rem; overflow-x: auto;
       font-size: 0.85rem; line-height: 1.4; }}
p.note {{ color: #666; font-size: 0.85rem; }}
</style></head>
<body>
<h1>{title}</h1>
<pre>{text}</pre>
<p class="note">{note}</p>
</body>
</html>
"""


def error_page_html(title: str, text: str, note: str = "") -> str:
    """A minimal standalone HTML page showing ``title`` and the preformatted ``text``."""
    return _PAGE.format(
        title=html.escape(title), text=html.escape(text), note=html.escape(note)
    )
