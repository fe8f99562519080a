"""``pyodide.ffi.run_sync`` (edgekv.runtime.blocking): synchronous code waiting for an awaitable.

Stands for the way django-cf's D1 engine (python-workers-examples ``19-django-todo-d1``) reads
D1 from a Django view: ``run_sync(env.DB.prepare(sql).bind(...).all())`` inside the WSGI app
that ``workers.wsgi.fetch`` runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import warnings
from pathlib import Path

import pytest

from edgekv.runtime.blocking import run_sync
from edgekv.runtime.context import bind, bound, current_loop, unbind
from edgekv.runtime.context import env as workers_env
from edgekv.runtime.d1 import D1Database
from edgekv.runtime.web.request import Request
from edgekv.runtime.wsgi_app import fetch as wsgi_fetch


async def test_a_worker_thread_waits_while_the_request_loop_runs_the_awaitable() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    async def answer() -> int:
        seen.append(threading.get_ident())
        await asyncio.sleep(0.01)
        return 42

    with bound(object()):
        assert current_loop() is asyncio.get_running_loop()
        value = await asyncio.to_thread(lambda: run_sync(answer()))
    assert value == 42 and seen == [loop_thread]


async def test_the_awaitables_exception_is_raised_in_the_waiting_thread() -> None:
    async def fail() -> None:
        raise KeyError("missing")

    with bound(object()), pytest.raises(KeyError, match="missing"):
        await asyncio.to_thread(lambda: run_sync(fail()))


async def test_on_the_loop_thread_it_refuses_instead_of_stalling_the_loop() -> None:
    async def never_started() -> None:
        raise AssertionError("must not run")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine left un-awaited would warn
        with pytest.raises(RuntimeError, match=r"^run_sync\(\) was called on the event loop"):
            run_sync(never_started())


def test_without_a_request_loop_it_runs_on_a_loop_of_its_own() -> None:
    async def answer() -> str:
        await asyncio.sleep(0)
        return "ok"

    assert current_loop() is None
    assert run_sync(answer()) == "ok"


def test_a_stopped_loop_ends_the_wait_with_an_error() -> None:
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()

    async def request_context() -> contextvars.Context:
        bind(object())
        return contextvars.copy_context()

    context = asyncio.run_coroutine_threadsafe(request_context(), loop).result(5)
    loop.call_soon_threadsafe(loop.call_later, 0.2, loop.stop)
    try:
        with pytest.raises(RuntimeError, match="the event loop stopped before"):
            context.run(run_sync, asyncio.sleep(3600))
    finally:
        runner.join(5)
        loop.close()


async def test_a_wsgi_app_reads_and_writes_d1_through_run_sync(tmp_path: Path) -> None:
    """The pattern of a synchronous database backend: each query blocks the WSGI thread."""
    db = D1Database(tmp_path / "d1" / "todo.sqlite3")

    class Env:
        DB = db

    def app(environ: dict, start_response) -> list[bytes]:
        env = workers_env  # ``from workers import env``: the request's env, from this thread
        title = environ["PATH_INFO"].strip("/")
        done = run_sync(env.DB.prepare("INSERT INTO todos (title) VALUES (?)").bind(title).all())
        rows = run_sync(env.DB.prepare("SELECT id, title FROM todos ORDER BY id").raw())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{done.meta.last_row_id} {done.meta.rows_written} {rows}".encode()]

    try:
        await db.exec("CREATE TABLE todos (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT)")
        token = bind(Env())
        try:
            first = await wsgi_fetch(app, Request("http://w/milk"), Env())
            second = await wsgi_fetch(app, Request("http://w/eggs"), Env())
        finally:
            unbind(token)
        assert await first.text() == "1 1 [[1, 'milk']]"
        assert await second.text() == "2 1 [[1, 'milk'], [2, 'eggs']]"
    finally:
        db.close()
