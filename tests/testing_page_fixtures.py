"""The two fixtures the testing page's browser example takes from the reader's setup.

``page`` is what pytest-playwright gives (here: Debian's Chromium, driven by
Playwright, never a downloaded browser) and ``live_server_url`` what a
live-server fixture gives (here: the ``app`` fixture served by werkzeug in a
thread on a free 127.0.0.1 port).  Loaded with ``-p`` by
tests/test_doc_snippets.py only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium


@pytest.fixture
def live_server_url(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def page() -> Iterator[Any]:
    require_chromium(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context()
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            browser.close()
