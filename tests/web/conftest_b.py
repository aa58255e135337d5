"""Browser fixtures of the second web helper's tests (plans, invoices, ...).

Temporary: the shared browser harness (tests/web/conftest.py, browser session cookies) is
being written on the web14 branch at the same time; these tests import this module until
that lands and are then moved onto it. What is faked here is the one thing the shared branch
adds: the gateway's browser-session refresh route (the httpOnly cookie flow). The page asks
it for an access token on load, and the test answers with the token of a customer who
signed in through the real JSON login. Everything else the page does goes to the real
platform.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
)

from portal_tests.e2e import Customer, eventually, paid, webhook
from portal_tests.infra import REPO_ROOT

__all__ = [
    "AXE",
    "DESKTOP",
    "PHONE",
    "axe_violations",
    "fund",
    "no_horizontal_scroll",
    "open_page",
    "settle",
    "shoot",
    "wallet_balance",
]

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
SHOTS = REPO_ROOT / ".cache" / "screenshots"
AXE = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 812}


# Chromium, the web build and the platform come from tests/web/conftest.py (`browser`,
# `portal`): one Playwright per session (a second sync Playwright cannot start beside it).


def _session_route(token: str) -> Callable[[Route], None]:
    def answer(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 900}),
        )

    return answer


@pytest.fixture
def open_page(browser: Browser, portal: dict[str, Any]) -> Iterator[Callable[..., Page]]:
    """A signed-in page of the portal for `customer` at a viewport (desktop by default)."""
    contexts: list[BrowserContext] = []

    def make(customer: Customer, path: str = "/", viewport: ViewportSize = DESKTOP) -> Page:
        context = browser.new_context(
            base_url=portal["url"],
            viewport=viewport,
            accept_downloads=True,
            locale="vi-VN",
            timezone_id="Asia/Ho_Chi_Minh",
        )
        contexts.append(context)
        context.route("**/api/v1/auth/session/refresh", _session_route(customer.token))
        context.route(
            "**/api/v1/auth/session/logout",
            lambda route: route.fulfill(status=200, content_type="application/json", body="null"),
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(path)
        return page

    yield make
    for context in contexts:
        context.close()


def axe_violations(page: Page, scope: str = "#main") -> list[dict[str, Any]]:
    """axe-core's serious and critical violations in `scope` as it is now: the screen under
    test (its main region, and any open dialog); the shared layout is the harness's to check."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated rather than added as a <script>: the portal's CSP (script-src 'self')
        # rightly refuses inline scripts, and the test keeps the real CSP.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        """async (scope) => await window.axe.run({include: [[scope], ['[role=dialog]']]}, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
        })""",
        scope,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot under .cache/screenshots/ (to look at, not compared)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SHOTS / f"{name}-{'phone' if width <= 400 else 'desktop'}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_scroll(page: Page) -> bool:
    return bool(
        page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    )


def fund(customer: Customer, base_url: str, amount: int) -> None:
    """Top the customer's wallet up through the signed sandbox webhook."""

    def balance() -> int:
        return int(customer.http.get("/api/v1/wallet").json()["balance"])

    before = balance()
    reference = customer.top_up(amount).json()["payment"]["reference"]
    assert webhook(base_url, paid(reference, amount)).status_code == 200
    eventually(lambda: balance() == before + amount, what="the top-up")


def wallet_balance(customer: Customer) -> int:
    r: httpx.Response = customer.http.get("/api/v1/wallet")
    return int(r.json()["balance"])


def settle(seconds: float = 0.3) -> None:
    """Lets an animation end before a screenshot (not a wait for a result)."""
    time.sleep(seconds)
