"""Browser tests of the data explorer: a real ``edgekv dev`` and a real ``edgekv serve``
(subprocesses, started the way a user starts them), driven by headless Chromium through
Playwright.

Chromium comes from Debian's ``chromium`` package (``scripts/setup.sh`` installs it when
``/usr/bin/chromium`` is missing); ``EDGEKV_CHROMIUM`` names another binary. Playwright's
own browser downloads are never used. Outside CI the tests skip, saying why, when no
Chromium can be had; in CI (``CI`` set) a missing browser fails them instead.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "counter"
EXPLORER = "/cdn-cgi/edgekv/explorer/"
V4 = "/cdn-cgi/edgekv/client/v4"
COUNTER_NS = "4fdb2e0a1c9b4e7e8d3f5a6b7c8d9e0f"
LOCAL_ACCOUNT = "edeed0000000000000000000000000c1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: scripts/setup.sh installs it)")
    pytest.skip(f"{reason}: run scripts/setup.sh as root (apt-get install chromium) to run "
                "the explorer's browser tests")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("EDGEKV_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        _unavailable(f"no Chromium at {path}")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (the test extra)")
    # Module scope: Playwright's sync API keeps an event loop running in this thread while
    # it is open, which would stop every later async test of the session from starting.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Page:
    """A browser tab on ``base`` with a console-error log and a screenshot helper."""

    page: Any
    base: str
    shots: Path
    errors: list[str] = field(default_factory=list)

    def open(self, fragment: str = "#/kv") -> None:
        self.page.goto(self.base + EXPLORER + fragment)

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        copy_to = os.environ.get("EDGEKV_EXPLORER_SCREENSHOTS")  # to refresh docs/images
        if copy_to:
            shutil.copy(path, Path(copy_to) / path.name)
        return path


def _new_page(browser: Any, base: str, tmp_path: Path, **options: Any) -> Iterator[Page]:
    context = browser.new_context(viewport=options.pop("viewport", {"width": 1280, "height": 800}),
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    shots = tmp_path / "screenshots"
    shots.mkdir(exist_ok=True)
    tab = Page(page, base, shots)
    # "Failed to load resource" lines are the expected 403/404 answers the page handles;
    # anything else (a script error, a Content-Security-Policy violation) fails the test.
    page.on("console", lambda m: tab.errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    yield tab
    context.close()
    assert tab.errors == [], tab.errors


# -- edgekv dev, as a user runs it ---------------------------------------------------------------


@dataclass
class Server:
    url: str
    http: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)

    def v4(self, path: str = "", namespace: str = COUNTER_NS, account: str = LOCAL_ACCOUNT) -> str:
        return f"{V4}/accounts/{account}/storage/kv/namespaces/{namespace}{path}"


def _copy_example(root: Path) -> Path:
    project = root / "counter"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("tests", "__pycache__", ".edgekv"))
    return project


def _edgekv(*args: str) -> str:
    """Run an ``edgekv`` command to completion; its output."""
    done = subprocess.run([sys.executable, "-m", "edgekv", *args], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextlib.contextmanager
def _running(*args: str) -> Iterator[str]:
    """``edgekv ARGS`` as a subprocess until the block ends (SIGINT); yields the server URL
    read from its banner's explorer line."""
    process = subprocess.Popen([sys.executable, "-m", "edgekv", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    url = None
    try:
        while url is None:
            line = lines.get(timeout=30)
            seen.append(line)
            match = re.search(r"Data explorer[^:]*: (http://\S+?)/cdn-cgi/edgekv/explorer/", line)
            if match:
                url = match.group(1)
    except queue.Empty:
        process.kill()
        pytest.fail(f"edgekv {args[0]} did not print its explorer URL:\n" + "".join(seen))
    try:
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``edgekv dev examples/counter --port 0`` in a subprocess (a fresh copy per module)."""
    project = _copy_example(tmp_path_factory.mktemp("dev"))
    with _running("dev", str(project), "--port", "0", "--no-watch") as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        yield Server(url, http)


@pytest.fixture
def dev_page(browser: Any, dev_server: Server, tmp_path: Path) -> Iterator[Page]:
    yield from _new_page(browser, dev_server.url, tmp_path)


# -- edgekv serve: tokens required --------------------------------------------------------------


@pytest.fixture(scope="module")
def serve_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``edgekv serve examples/counter`` in a subprocess, with an account and read-only,
    read-write and admin tokens made by ``edgekv account create`` / ``token create``, and a
    namespace ``shop-data`` holding one key."""
    project = _copy_example(tmp_path_factory.mktemp("serve"))
    config = ["-c", str(project / "wrangler.toml")]
    created = _edgekv("account", "create", "--name", "shop", *config)
    account = re.search(r"Created account ([0-9a-f]{32})", created).group(1)  # type: ignore[union-attr]
    tokens = {}
    for name, flags in (("read_only", ["--read-only"]), ("writer", []), ("admin", ["--admin"])):
        out = _edgekv("token", "create", "--account", account, *flags, *config)
        tokens[name] = out.split("Token (shown once, store it now):\n", 1)[1].split()[0]
    with _running("serve", str(project), "--port", "0") as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        auth = {"Authorization": f"Bearer {tokens['writer']}"}
        made = http.post(f"{V4}/accounts/{account}/storage/kv/namespaces", json={"title": "shop-data"},
                         headers=auth)
        assert made.status_code == 200, made.text
        namespace = made.json()["result"]["id"]
        put = http.put(f"{V4}/accounts/{account}/storage/kv/namespaces/{namespace}/values/greeting",
                       content=b"hello", headers=auth)
        assert put.status_code == 200, put.text
        yield Server(url, http, tokens)


@pytest.fixture
def serve_page(browser: Any, serve_server: Server, tmp_path: Path) -> Iterator[Page]:
    yield from _new_page(browser, serve_server.url, tmp_path)
