"""The demo's "Your devices" page and idle timeout, in two real browser contexts.

Debian's Chromium driven by Playwright, against the example app under
gunicorn (see tests/test_browser.py for the set-up).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, example_app, require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.browser

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def context(browser: Browser, agent: str) -> BrowserContext:
    created = browser.new_context(user_agent=agent)
    created.set_default_timeout(15_000)
    return created


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(base + "/")
    page.fill("#username", name)
    with page.expect_navigation():
        page.click("#login-button")
    assert page.locator("#user").inner_text() == name


def test_the_devices_page_lists_both_browsers_and_logs_the_other_out(browser: Browser) -> None:
    with example_app() as base:
        phone, laptop = context(browser, PHONE), context(browser, LAPTOP)
        try:
            first, second = phone.new_page(), laptop.new_page()
            log_in(second, base, "alice")
            log_in(first, base, "alice")
            first.goto(base + "/devices")
            rows = first.locator(".device")
            assert rows.count() == 2
            assert rows.nth(0).locator(".browser").inner_text() == "Safari on iPhone"
            assert rows.nth(0).locator(".badge").inner_text() == "this device"
            assert rows.nth(1).locator(".browser").inner_text() == "Chrome on Linux"
            assert "127.0.0.1" in rows.nth(1).locator(".device-meta").inner_text()
            with first.expect_navigation():
                first.click("#logout-others")
            assert first.locator(".device").count() == 1
            second.reload()  # the laptop's next request is anonymous
            assert second.locator("#login").count() == 1
            assert first.locator("#devices-user").inner_text() == "alice"  # phone kept
        finally:
            phone.close()
            laptop.close()


def test_the_idle_timeout_logs_a_browser_out(browser: Browser) -> None:
    with example_app(DEMO_IDLE_TIMEOUT="2") as base:
        phone = context(browser, PHONE)
        try:
            page = phone.new_page()
            log_in(page, base, "bob")
            page.reload()
            assert page.locator("#user").inner_text() == "bob"  # still active
            time.sleep(2.5)  # idle for longer than the timeout (a real server's clock)
            page.reload()
            assert page.locator("#login").count() == 1
        finally:
            phone.close()
