"""Browser tests: the demo app served for real, driven by Chromium through Playwright.

The demo runs as a subprocess (``python -m examples.demo``, see ``tests/demo_process.py``)
on a free port of 127.0.0.1, with live updates on and a fresh SQLite database in a temporary
folder, seeded by its own start-up. The browser is the system's Chromium (``/usr/bin/chromium``,
or ``E2E_CHROMIUM``); nothing is
downloaded. Without it these tests are skipped, unless ``CI`` is set: then a missing browser
fails the run. Screenshots go to ``test-output/screenshots`` (``E2E_SCREENSHOTS`` to move them).

The tests are marked ``e2e`` and run once, against SQLite, whatever ``--db`` says.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.demo_process import DemoServer, demo_env, free_port, start_demo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo"


def _problem() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (install Debian's 'chromium' or set E2E_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if HERE in item.path.parents]
    if not mine:
        return
    problem = _problem()
    for item in mine:
        item.add_marker(pytest.mark.e2e)
        item.add_marker(pytest.mark.xdist_group("e2e"))  # one demo server, one Chromium
        if problem is None:
            continue
        if os.environ.get("CI"):
            # CI must not pass by skipping: the browser fixture fails each test instead.
            continue
        item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {problem}"))


# ---------------------------------------------------------------------------- the server
@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo app with live updates on, served by a real process on a free port, on a fresh
    SQLite file (``demo_server.env`` reaches the same database from a command)."""
    folder = tmp_path_factory.mktemp("demo-server")
    port = free_port()
    env = demo_env(folder, SECRET_KEY=secrets.token_hex(16),
                   APP_URL=f"http://127.0.0.1:{port}", ESCALATED_ENABLE_REALTIME="1",
                   WIDGET_ORIGINS=LISTED_SITE)
    try:
        server = start_demo(env, folder / "server.log", port)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    server.env = env  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------- the browser
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless system Chromium (never a downloaded one)."""
    problem = _problem()
    if problem is not None:
        pytest.fail(f"CI is set and the browser tests cannot run: {problem}", pytrace=False)
    from playwright.sync_api import sync_playwright

    args = ["--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Any, demo_server: DemoServer) -> Iterator[Callable[..., Any]]:
    """``new_context(**options)``: a fresh browser context (own cookies) on the demo's URL."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("base_url", demo_server.url)
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., Any]) -> Any:
    return new_context()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def login(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the demo's own form at /login, as a person would."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login" not in page.url, f"sign-in as {email} failed: {page.url}"


@pytest.fixture
def signed_in(new_context: Callable[..., Any]) -> Callable[[str], Any]:
    """``signed_in(email)``: a new page in its own context, signed in as ``email``."""

    def make(email: str, **options: Any) -> Any:
        page = new_context(**options).new_page()
        login(page, email)
        return page

    return make


# ---------------------------------------------------------------------------- screenshots
def screenshot_dir() -> Path:
    return Path(os.environ.get("E2E_SCREENSHOTS") or ROOT / "test-output" / "screenshots")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(screenshots: Path) -> Callable[[Any, str], Path]:
    """``screenshot(page, name)`` saves ``<screenshots>/<name>.png`` (the full page)."""

    def take(page: Any, name: str) -> Path:
        path = screenshots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take



#: The one other site the demo lets embed its widget (a port no test server is started on
#: by chance: the listed page serves there).
LISTED_PORT = free_port()
LISTED_SITE = f"http://127.0.0.1:{LISTED_PORT}"


def _serve_embedding_page(demo_url: str, host: str, port: int) -> Iterator[str]:
    html = ("<!doctype html><html lang=\"en\"><head><title>Shop</title></head><body>"
            f'<h1>Shop</h1><script src="{demo_url}/support/widget/embed.js" async>'
            "</script></body></html>").encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Page)  # ``host`` names it in the URL
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{host}:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def embedding_site(demo_server: DemoServer) -> Iterator[str]:
    """A host's page that embeds the demo's widget, on another origin that the demo lists in
    ``WIDGET_ORIGINS``: the URL of that page."""
    yield from _serve_embedding_page(demo_server.url, "127.0.0.1", LISTED_PORT)


@pytest.fixture
def unlisted_site(demo_server: DemoServer) -> Iterator[str]:
    """The same page on an origin nobody listed."""
    yield from _serve_embedding_page(demo_server.url, "localhost", 0)
