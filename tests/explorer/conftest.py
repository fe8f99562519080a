"""Browser tests of the data explorer: a real ``edgekv dev`` (a subprocess, the way a user
starts it) and a server in ``edgekv serve``'s shape (tokens required), driven by headless
Chromium through Playwright.

Chromium comes from Debian's ``chromium`` package (``scripts/setup.sh`` installs it when
``/usr/bin/chromium`` is missing); ``EDGEKV_CHROMIUM`` names another binary. Playwright's
own browser downloads are never used. Outside CI the tests skip, saying why, when no
Chromium can be had; in CI (``CI`` set) a missing browser fails them instead.
"""

from __future__ import annotations

import asyncio
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


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (the test extra)")
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


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``edgekv dev examples/counter --port 0`` in a subprocess (a fresh copy per module)."""
    project = _copy_example(tmp_path_factory.mktemp("dev"))
    process = subprocess.Popen(
        [sys.executable, "-m", "edgekv", "dev", str(project), "--port", "0", "--no-watch"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    seen = []
    url = None
    try:
        while url is None:
            line = lines.get(timeout=30)
            seen.append(line)
            match = re.search(r"Data explorer: (http://\S+?)/cdn-cgi/edgekv/explorer/", line)
            if match:
                url = match.group(1)
    except queue.Empty:
        process.kill()
        pytest.fail("edgekv dev did not print its explorer URL:\n" + "".join(seen))
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Server(url, http)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def dev_page(browser: Any, dev_server: Server, tmp_path: Path) -> Iterator[Page]:
    yield from _new_page(browser, dev_server.url, tmp_path)


# -- the edgekv serve shape: tokens required ------------------------------------------------------


@pytest.fixture(scope="module")
def serve_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The counter Worker behind ``ManagementPaths`` without the open dev access: every
    request needs a token (as ``edgekv serve`` mounts it), on a thread of this process."""
    from edgekv.config import load_config
    from edgekv.runtime.worker import WorkerRuntime
    from edgekv.server import DevServer
    from edgekv.server.management import ManagementPaths, api_context, register_config_namespaces
    from edgekv.storage import LOCAL_ACCOUNT_ID

    project = _copy_example(tmp_path_factory.mktemp("serve"))
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        config = load_config(project, cwd=project, environ={})
        state = config.state_paths()
        runtime = await WorkerRuntime.open(config, store_url=state.kv_url,
                                           do_store_url=state.do_url, state_dir=state.root)
        await register_config_namespaces(runtime.kv_store, config)
        ctx = api_context(runtime.kv_store, open_without_credential=False)
        await ctx.registry.ensure_local_account()
        tokens = {
            "read_only": await ctx.registry.create_token(LOCAL_ACCOUNT_ID, read_only=True),
            "writer": await ctx.registry.create_token(LOCAL_ACCOUNT_ID),
            "admin": await ctx.registry.create_token(LOCAL_ACCOUNT_ID, admin=True),
        }
        box["tokens"] = {name: created.secret for name, created in tokens.items()}
        server = DevServer(runtime, host="127.0.0.1", port=0,
                           app_wrapper=lambda app: ManagementPaths(app, ctx, runtime=runtime),
                           on_ready=lambda url: (box.update(url=url), ready.set()))
        box["loop"] = asyncio.get_running_loop()
        box["server"] = server
        await server.serve()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    if not ready.wait(30):
        pytest.fail("the serve-mode server did not start")
    with httpx.Client(base_url=box["url"], timeout=10) as http:
        yield Server(box["url"], http, box["tokens"])
    box["loop"].call_soon_threadsafe(box["server"].stop)
    thread.join(15)


@pytest.fixture
def serve_page(browser: Any, serve_server: Server, tmp_path: Path) -> Iterator[Page]:
    yield from _new_page(browser, serve_server.url, tmp_path)
