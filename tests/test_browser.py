"""The example app in a real browser: Debian's Chromium driven by Playwright.

The app runs under gunicorn (a real WSGI server, one worker so the
MemoryStore is shared) on a free 127.0.0.1 port and is stopped by PID.  A
missing browser is a failure, not a skip: ``make browser`` installs it from
Debian's packages, and nothing here ever downloads one.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = ROOT / "test-artifacts" / "logged-in.png"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the example app did not answer on {url} within {timeout} s")


def require_chromium(path: str) -> None:
    """Fail (never skip) with instructions when the browser is not installed."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"Chromium is missing: {path} does not exist. Install Debian's package "
            "with `make browser` (apt-get install chromium); the browser tests never "
            "download a browser.",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The example app under gunicorn; yields its base URL."""
    port = free_port()
    env = {**os.environ, "SECRET_KEY": "browser-test secret"}
    env.pop("MONGODB_URI", None)  # the MemoryStore demo, whatever the environment
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "examples.app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture
def browser_context(tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh Chromium profile (new user-data dir) with one page."""
    require_chromium(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


def fetch_with_cookie(url: str, cookie: str) -> str:
    """GET ``url`` with a plain HTTP client that sends only ``cookie``."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def session_cookie(context: BrowserContext) -> dict[str, Any]:
    cookies = [dict(c) for c in context.cookies() if c["name"] == "session"]
    assert len(cookies) == 1, cookies
    return cookies[0]


def test_login_flash_counter_httponly_and_logout(
    server: str, browser_context: BrowserContext, capsys: pytest.CaptureFixture[str]
) -> None:
    context = browser_context
    page = context.pages[0] if context.pages else context.new_page()

    # An anonymous visit shows the login form and gets no session cookie.
    page.goto(server + "/")
    assert page.locator("#login h2").inner_text() == "Log in"
    assert context.cookies() == []

    # Log in: the POST redirects to /, which shows the user and the flash once.
    page.fill("#username", "alice")
    with page.expect_navigation() as navigation:
        page.click("#login-button")
    response = navigation.value
    assert response is not None
    assert response.ok
    assert page.url == server + "/"
    assert response.request.redirected_from is not None
    assert response.request.redirected_from.url == server + "/login"
    assert page.locator("#user").inner_text() == "alice"
    flashes = page.locator(".flash").all_inner_texts()
    assert flashes == ["Welcome, alice!"]

    # The session cookie is HttpOnly: the browser has it, page scripts cannot see it.
    cookie = session_cookie(context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert str(cookie["value"]).startswith("s%3A")
    assert "session=" not in page.evaluate("document.cookie")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    with capsys.disabled():
        print(f"\nscreenshot of the logged-in page: {SCREENSHOT}")

    # A reload: still logged in, and the flash message is gone.
    page.reload()
    assert page.locator("#user").inner_text() == "alice"
    assert page.locator(".flash").count() == 0

    # Logged in across requests: the counter keeps counting in the session.
    for expected in ("1", "2", "3"):
        with page.expect_navigation():
            page.click("#count-button")
        assert page.locator("#count").inner_text() == expected
    assert page.locator(".flash").count() == 0
    assert session_cookie(context)["value"] == cookie["value"]  # same ID all along

    # Replaying the cookie from outside the browser works while the session lives...
    old_cookie = f"session={cookie['value']}"
    assert re.search(r'id="user">alice<', fetch_with_cookie(server + "/", old_cookie))

    # ...and log out destroys it: a goodbye flash, the login form, the old cookie gone.
    # (The goodbye flash lives in a new session; showing it empties that session,
    # which unset="destroy", v2's default, removes with its cookie.)
    with page.expect_navigation():
        page.click("#logout-button")
    assert page.locator(".flash").all_inner_texts() == ["Goodbye, alice. You are logged out."]
    assert page.locator("#login").count() == 1
    remaining = [c["value"] for c in context.cookies() if c["name"] == "session"]
    assert cookie["value"] not in remaining

    # The old cookie no longer works when replayed with a plain HTTP request.
    replayed = fetch_with_cookie(server + "/", old_cookie)
    assert 'id="user"' not in replayed
    assert 'id="login"' in replayed

    page.reload()
    assert page.locator(".flash").count() == 0
    assert page.locator("#login").count() == 1


def test_missing_browser_fails_with_instructions(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"Chromium is missing: .*make browser"):
        require_chromium(str(tmp_path / "no-chromium"))
