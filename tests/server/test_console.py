"""The servers' console (``edgekv.server.console``): the access log's shortcut writes exactly
what the logging path writes, and steps aside whenever anything else would see the record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import pytest

from edgekv.server import console


@pytest.fixture
def configured(capfd: pytest.CaptureFixture[str]) -> Iterator[console.ConsoleHandler]:
    """``configure_logging("log")`` as ``edgekv dev`` calls it (undone afterwards); capfd
    first, so that the handler's stream is opened on the captured standard output."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.logThreads, logging.logProcesses,
             logging.logMultiprocessing, logging._srcfile)
    try:
        console.configure_logging("log")
        handler = root.handlers[-1]
        assert isinstance(handler, console.ConsoleHandler)
        yield handler
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        (logging.logThreads, logging.logProcesses, logging.logMultiprocessing,
         logging._srcfile) = saved[2:]
        logging.getLogger("edgekv").setLevel(logging.NOTSET)


@contextlib.contextmanager
def alone(configured: console.ConsoleHandler) -> Iterator[None]:
    """pytest's log capture adds handlers of its own to the root logger while a test runs
    (they would rightly turn the shortcut off): here the console's handler is left alone."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = [configured]
    try:
        yield
    finally:
        root.handlers[:] = saved


def _printed(handler: console.ConsoleHandler, capfd: pytest.CaptureFixture[str]) -> str:
    handler.flush()  # off the loop: at once
    return capfd.readouterr().out


def test_shortcut_writes_what_logging_writes(configured: console.ConsoleHandler,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    with alone(configured):
        _same_bytes(configured, capfd)


def _same_bytes(configured: console.ConsoleHandler, capfd: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("edgekv.dev")
    log.info("GET /é?x=1 200 OK (0.12ms)")
    slow = _printed(configured, capfd)
    target = console.console_target(log, logging.INFO)
    assert target is not None
    handler, prefix = target
    handler.write_line(f"{prefix}GET /é?x=1 200 OK (0.12ms)\n")
    fast = _printed(configured, capfd)
    assert fast == slow == "[edgekv:info] GET /é?x=1 200 OK (0.12ms)\n"
    worker = console.console_target(logging.getLogger("worker"), logging.WARNING)
    assert worker is not None and worker[1] == ""  # the Worker's lines carry no prefix
    worker[0].write_line("plain\n")
    assert _printed(configured, capfd) == "plain\n"


def test_shortcut_steps_aside_for_anything_else(configured: console.ConsoleHandler) -> None:
    with alone(configured):
        _steps_aside(configured)


def _steps_aside(configured: console.ConsoleHandler) -> None:
    log = logging.getLogger("edgekv.dev")
    assert console.console_target(log, logging.INFO) is not None
    extra = logging.NullHandler()
    logging.getLogger().addHandler(extra)  # e.g. caplog, or a Worker's own handler
    try:
        assert console.console_target(log, logging.INFO) is None
    finally:
        logging.getLogger().removeHandler(extra)
    log.addFilter(lambda record: True)
    try:
        assert console.console_target(log, logging.INFO) is None
    finally:
        log.filters.clear()
    configured.setLevel(logging.WARNING)
    try:
        assert console.console_target(log, logging.INFO) is None
    finally:
        configured.setLevel(logging.NOTSET)
    log.propagate = False  # the record would reach no handler at all
    try:
        assert console.console_target(log, logging.INFO) is None
    finally:
        log.propagate = True
    assert console.console_target(log, logging.INFO) is not None


def test_lines_on_the_loop_leave_within_the_flush_delay_on_every_loop(
        configured: console.ConsoleHandler, capfd: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("edgekv.dev")

    async def serve_a_few(name: str) -> tuple[str, str]:
        with alone(configured):
            target = console.console_target(log, logging.INFO)
            assert target is not None
            for i in range(3):
                target[0].write_line(f"{target[1]}{name} {i}\n")
            log.info("%s slow", name)
        await asyncio.sleep(0)
        before = capfd.readouterr().out  # nothing yet: one write for all, a moment later
        await asyncio.sleep(console.FLUSH_AFTER_SECONDS * 3)
        return before, capfd.readouterr().out

    for name in ("first", "second"):  # a second loop in the same process flushes too
        before, after = asyncio.run(serve_a_few(name))
        assert before == ""
        assert after == "".join(f"[edgekv:info] {name} {i}\n" for i in range(3)) + (
            f"[edgekv:info] {name} slow\n")
    log.info("off the loop")  # at once
    assert capfd.readouterr().out == "[edgekv:info] off the loop\n"


def test_lines_queued_when_the_loop_ends_are_written_by_flush(
        configured: console.ConsoleHandler, capfd: pytest.CaptureFixture[str]) -> None:
    async def one_line() -> None:
        logging.getLogger("edgekv.dev").info("queued")  # the loop ends before its flush is due

    asyncio.run(one_line())
    assert capfd.readouterr().out == ""
    configured.flush()  # what logging.shutdown() does at exit
    assert capfd.readouterr().out == "[edgekv:info] queued\n"
