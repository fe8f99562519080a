"""The servers' console: where ``edgekv dev`` and ``edgekv serve`` print their log lines.

:func:`configure_logging` sends every record to standard output through one
:class:`ConsoleHandler`: edgekv's own records as ``[edgekv:info] message`` (level in lower
case, as wrangler prints ``[wrangler:info]``), the Worker's records as their message alone. The
handler writes through its own block-buffered stream and, on the event loop, flushes at
most every :data:`FLUSH_AFTER_SECONDS`, so the lines of many requests share one ``write`` (a
flush per line cost about a third of the throughput at 10 connections, bench/http.py); off
the loop, and at exit, it flushes at once.

The access log writes one line per request, the busiest record by far. :func:`console_target`
gives it a shortcut when the stdlib's path could not change the result: when every record of
the access logger would reach exactly one ``ConsoleHandler`` and nothing else (no other
handler, no filter on the way, the handler's level letting INFO through), the line is written
to that handler's stream directly, byte for byte what the handler would write, without
building a ``LogRecord``. Anything else configured on the way (a test's ``caplog``, a
Worker's own handler on the root logger, a filter) turns the shortcut off for that line.
Custom ``LogRecord`` factories never see access lines taken by the shortcut.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from typing import Any

__all__ = ["FLUSH_AFTER_SECONDS", "LOG_LEVELS", "ConsoleFormatter", "ConsoleHandler",
           "configure_logging", "console_target", "line_prefix"]

#: Lines written on the event loop reach standard output at most this much later: under load
#: the lines of many requests then leave in one write instead of one per loop turn, and a
#: person reading the log sees no delay.
FLUSH_AFTER_SECONDS = 0.02

#: ``--log-level`` choices (wrangler's names) and the level of the ``edgekv`` loggers.
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "log": logging.INFO,
              "warn": logging.WARNING, "error": logging.ERROR, "none": logging.CRITICAL + 1}



@functools.cache  # the access log asks for the same one on every request
def line_prefix(logger_name: str, level_name: str) -> str:
    """What the console prints before a record's message: ``[edgekv:info] `` for edgekv's
    own loggers (as wrangler prints ``[wrangler:info]``), nothing for the Worker's."""
    return f"[edgekv:{level_name.lower()}] " if logger_name.startswith("edgekv") else ""


class ConsoleFormatter(logging.Formatter):
    """``[edgekv:info] message`` for edgekv's records; the Worker's own logs as they are."""

    def __init__(self, fmt: str = "%(message)s") -> None:
        super().__init__(fmt)
        #: The record's message alone (what edgekv's servers print): no generic formatting.
        self.bare = fmt == "%(message)s"

    def format(self, record: logging.LogRecord) -> str:
        if self.bare and not (record.exc_info or record.exc_text or record.stack_info):
            # What Formatter.format does for a bare message, without its generic steps.
            text = record.message = record.getMessage()
        else:
            text = super().format(record)
        return f"{line_prefix(record.name, record.levelname)}{text}"


class ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that queues its lines and, on the event loop, writes them at most
    every :data:`FLUSH_AFTER_SECONDS` in one go (module docstring). Off the loop (a thread,
    before the server starts) and by :meth:`flush` (also at exit) they are written at once.
    """

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._lines: list[str] = []
        self._flush_loop: asyncio.AbstractEventLoop | None = None  # a flush is due there

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record) + self.terminator)
            self._flush_soon()
        except RecursionError:  # the stdlib's handlers let this one through too
            raise
        except Exception:  # noqa: BLE001 - the stdlib's contract: report, never raise
            self.handleError(record)

    def write_line(self, text: str) -> None:
        """Queue ``text`` (a formatted line with its terminator) as ``emit`` would: the
        shortcut of :func:`console_target`."""
        self._lines.append(text)
        due = self._flush_loop
        if due is None or not due.is_running():  # else the flush due takes this line too
            self._flush_soon()

    def flush(self) -> None:
        """Write every queued line and flush the stream, now."""
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            lines = self._lines
            if lines:
                self._lines = []
                self.stream.write("".join(lines))
            super().flush()

    def _flush_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._flush_loop is loop:  # already due: that flush takes every line until then
            return
        self._flush_loop = loop
        loop.call_later(FLUSH_AFTER_SECONDS, self._flush_due)

    def _flush_due(self) -> None:
        self._flush_loop = None
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - e.g. a closed pipe: report as logging does
            self._lines = []
            self.handleError(logging.makeLogRecord({"msg": "(console output)"}))


def console_target(logger: logging.Logger, level: int) -> tuple[ConsoleHandler, str] | None:
    """Where a message of ``logger`` at ``level`` would end up, as ``(handler, prefix)``:
    ``handler.write_line(prefix + message + "\\n")`` prints it exactly as logging would.
    ``None`` when anything besides one :class:`ConsoleHandler` would see the record (module
    docstring). Ask per message: the answer follows the configuration as it is now."""
    target: ConsoleHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        handlers = current.handlers
        if handlers:
            handler = handlers[0]
            if target is not None or len(handlers) != 1 or type(handler) is not ConsoleHandler:
                return None
            target = handler
        if not current.propagate:
            break
        current = current.parent
    if target is None or target.filters or level < target.level:
        return None
    formatter = target.formatter
    if type(formatter) is not ConsoleFormatter or not formatter.bare or target.terminator != "\n":
        return None
    return target, line_prefix(logger.name, logging.getLevelName(level))


def configure_logging(level: str = "log") -> None:
    """Print log records on standard output (module docstring); ``level`` (a
    :data:`LOG_LEVELS` name) applies to edgekv's own loggers, INFO to the rest."""
    with_lines = getattr(sys.stdout, "reconfigure", None)
    if with_lines is not None:
        with_lines(line_buffering=True)  # the Worker's print() reaches a pipe at once
    try:  # log lines get their own block-buffered writer on stdout, flushed per loop turn
        stream: Any = open(  # noqa: SIM115 - lives as long as the process
            sys.stdout.fileno(), "w", encoding="utf-8", errors="backslashreplace", closefd=False
        )
        handler: logging.Handler = ConsoleHandler(stream)
    except (AttributeError, OSError, ValueError):  # stdout is not a file (a test runner)
        handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(ConsoleFormatter())
    # Every record would otherwise look up the calling frame, the thread and the process;
    # this handler shows none of them. These are the stdlib's documented switches for that
    # (logging HOWTO, "Optimization").
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("edgekv").setLevel(LOG_LEVELS[level])
    for noisy in ("uvicorn", "uvicorn.error", "uvicorn.access", "watchfiles", "httpx",
                  "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
