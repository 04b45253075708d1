"""Browser fixtures: the app served over real HTTP (in a thread, inside moto) and Debian's
Chromium driven by Playwright.  Any browser test asks for ``page`` (and ``live_server`` for
the base URL); screenshots go to ``test-artifacts/`` (kept out of git)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import devstack
from chalicelib.platform.process import PROCESS

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live_server(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app on a free local port; links in messages sent meanwhile point at it."""
    from chalice.config import Config
    from chalice.local import LocalDevServer

    server = LocalDevServer(
        app, Config.create(chalice_stage="local", app_name="aftercare", project_dir=str(devstack.ROOT)), "127.0.0.1", 0
    )
    url = f"http://127.0.0.1:{server.server.server_address[1]}"
    monkeypatch.setenv("PUBLIC_BASE_URL", url)
    PROCESS.reset()
    thread = threading.Thread(target=server.server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh phone-sized tab whose relative URLs resolve against the live server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844}, device_scale_factor=2)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()
