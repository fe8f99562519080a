"""AccessLog: one line per request with method, path (and query), status and time."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from edgekv.server.access import AccessLog, format_line


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["path"] == "/crash":
        raise RuntimeError("no response")
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"nope"})


def test_format_line() -> None:
    assert format_line("GET", "/", 200, 1.234) == "GET / 200 OK (1.23ms)"
    assert format_line("POST", "/x", 599, 0.0) == "POST /x 599 (0.00ms)"
    assert format_line("GET", "/", 0, 31.6) == "GET / (no response) (32ms)"


async def test_logs_each_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edgekv.dev")
    transport = httpx.ASGITransport(app=AccessLog(app), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/missing?q=1")
        await http.get("/crash")
    lines = [r.getMessage() for r in caplog.records if r.name == "edgekv.dev"]
    assert re.fullmatch(r"GET /missing\?q=1 404 Not Found \(\d+(\.\d\d)?ms\)", lines[0])
    assert lines[1].startswith("GET /crash (no response)")


async def test_silent_when_info_is_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="edgekv.dev")
    transport = httpx.ASGITransport(app=AccessLog(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/")
    assert not [r for r in caplog.records if r.name == "edgekv.dev"]
