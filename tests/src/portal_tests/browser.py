"""Helpers of the browser tests (tests/web): sign-in through the browser session, screenshots,
axe-core, layout checks, form controls, money set-up."""

from __future__ import annotations

import os
import time
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, ViewportSize, expect

from portal_tests.e2e import PASSWORD, Customer, eventually, paid, webhook
from portal_tests.infra import REPO_ROOT
from portal_tests.webbuild import WEB

SHOTS = REPO_ROOT / ".cache" / "screenshots"
# Screenshots are for a person to look at; CI (.ci/run) has nobody looking and turns them off
# (about 90 full-page captures and their phone-width resizes: minutes on a loaded machine).
SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS", "1") != "0"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 375, "height": 780}
# The browser-session routes refuse a call without it (their CSRF defence).
SESSION_HEADER = {"X-Portal-Session": "1"}


def sign_in_context(context: BrowserContext, email: str, password: str = PASSWORD) -> None:
    """Signs the context in as the web portal does: the gateway's browser-session login sets
    the httpOnly refresh cookie, and each page the context opens restores the session from it."""
    answer = context.request.post(
        "/api/v1/auth/session/login",
        data={"email": email, "password": password},
        headers=SESSION_HEADER,
    )
    assert answer.status == 200, answer.text()
    assert "access_token" in answer.json(), answer.text()  # not a second-factor step


def shoot(page: Page, name: str, *, phone_too: bool = True) -> None:
    """The page under .cache/screenshots/ (to look at, not compared): at desktop and at phone
    width, or (phone_too=False) at its own width only, leaving an open dialog undisturbed."""
    if not SCREENSHOTS:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or DESKTOP
    if not phone_too:
        suffix = "phone" if size["width"] <= 400 else "desktop"
        page.screenshot(path=str(SHOTS / f"{name}-{suffix}.png"), full_page=True)
        return
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)  # layout settles (navbar collapses)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(size)


SETTLED = """async () => {
    const finite = document.getAnimations().filter(
        (a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity
    );
    await Promise.race([
        Promise.all(finite.map((a) => a.finished.catch(() => undefined))),
        new Promise((resolve) => setTimeout(resolve, 3000)),
    ]);
}"""


def _axe_run(page: Page, context: str, options: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations (`context` and `options` are JS literals)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated over the DevTools protocol: the page's CSP (no inline scripts) stays on.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    # Colours read mid-transition (a dialog fading in, a menu opening) are blends: wait for
    # the finite animations to end first (at most 3 s; a spinner's never ends).
    page.evaluate(SETTLED)
    result: dict[str, Any] = page.evaluate(
        f"async () => await window.axe.run({context}, {options})"
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


def axe(page: Page, screen: str) -> None:
    """axe-core on the whole page as it is: no serious or critical violation."""
    bad = _axe_run(page, "document", "{resultTypes: ['violations']}")
    assert not bad, f"{screen}: " + "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][:3]}" for v in bad
    )


def axe_violations(page: Page, scope: str = "#main") -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.1 AA violations in `scope` as it is now: the
    screen under test (its main region, and any open dialog); the layout is axe()'s to check."""
    if "'" in scope or "\\" in scope:
        raise ValueError(f"a plain CSS selector, please: {scope!r}")
    return _axe_run(
        page,
        f"{{include: [['{scope}'], ['[role=dialog]']]}}",
        "{runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}",
    )


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.evaluate("() => window.innerWidth")
    assert width <= viewport, f"scrolls sideways: {width}px of content in {viewport}px"


def choose(scope: Page | Locator, label: str, option: str) -> None:
    """Picks `option` in the Mantine Select named `label` within `scope`. Its input is a
    combobox, not a textbox, and a required one's label ends in a hidden " *", so it is found
    by role and accessible name; the options are in the listbox it controls, which Mantine
    draws in a portal outside `scope`."""
    page = scope if isinstance(scope, Page) else scope.page
    field = scope.get_by_role("combobox", name=label, exact=True)
    field.click()
    expect(field).to_have_attribute("aria-expanded", "true")
    listbox = page.locator(f'[id="{field.get_attribute("aria-controls")}"]')
    listbox.get_by_role("option", name=option, exact=True).click()
    expect(field).to_have_value(option)


def wallet_balance(customer: Customer) -> int:
    return int(customer.http.get("/api/v1/wallet").json()["balance"])


def fund(customer: Customer, base_url: str, amount: int) -> None:
    """Top the customer's wallet up through the signed sandbox webhook."""
    before = wallet_balance(customer)
    reference = customer.top_up(amount).json()["payment"]["reference"]
    assert webhook(base_url, paid(reference, amount)).status_code == 200
    eventually(lambda: wallet_balance(customer) == before + amount, what="the top-up")


def settle(seconds: float = 0.3) -> None:
    """Lets an animation end before a screenshot (not a wait for a result)."""
    time.sleep(seconds)
