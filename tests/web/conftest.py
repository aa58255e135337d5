"""Browser tests: Debian's Chromium driven by Playwright against the real platform (the same
`platform` fixture as tests/e2e), with the web portal built and served by the gateway."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from portal_tests.browser import DESKTOP, sign_in_context
from portal_tests.e2e import Customer
from portal_tests.webbuild import ensure_web_build

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")


# The platform shares two busy cores with the browser: waits are generous, never timed.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def web_dist() -> Path:
    # Before the platform starts: the gateway reads the build once, when it starts.
    return ensure_web_build(say=False)


@pytest.fixture(scope="session")
def portal(web_dist: Path, platform: dict[str, Any]) -> dict[str, Any]:
    return platform


# Per module, not per session: sync Playwright keeps an event loop running on the main
# thread while it lives, and later tests (the CLI's) call asyncio.run.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is missing: apt-get install chromium (CI installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


def new_context(
    browser: Browser, portal: dict[str, Any], viewport: ViewportSize = DESKTOP
) -> BrowserContext:
    context = browser.new_context(
        base_url=portal["url"],
        viewport=viewport,
        accept_downloads=True,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
    )
    context.set_default_timeout(30_000)
    return context


@pytest.fixture
def context(browser: Browser, portal: dict[str, Any]) -> Iterator[BrowserContext]:
    context = new_context(browser, portal)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def open_page(browser: Browser, portal: dict[str, Any]) -> Iterator[Callable[..., Page]]:
    """`open_page(customer, path="/", viewport=DESKTOP)`: a page of the portal at `path`,
    signed in as `customer` through the browser-session cookie (None: nobody signed in), in a
    browser context of its own."""
    contexts: list[BrowserContext] = []

    def make(customer: Customer | None, path: str = "/", viewport: ViewportSize = DESKTOP) -> Page:
        context = new_context(browser, portal, viewport)
        contexts.append(context)
        if customer is not None:
            sign_in_context(context, customer.email)
        page = context.new_page()
        page.goto(path)
        return page

    yield make
    for context in contexts:
        context.close()
