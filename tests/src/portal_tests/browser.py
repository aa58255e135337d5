"""Helpers of the browser tests (tests/web): screenshots, axe-core, layout checks."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from portal_tests.infra import REPO_ROOT
from portal_tests.webbuild import WEB

SHOTS = REPO_ROOT / ".cache" / "screenshots"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 780}


def shoot(page: Page, name: str) -> None:
    """The page at desktop and at phone width, under .cache/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or DESKTOP
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.wait_for_timeout(300)  # layout settles (navbar collapses)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(size)  # type: ignore[arg-type]


def axe(page: Page, screen: str) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated over the DevTools protocol: the page's CSP (no inline scripts) stays on.
        page.evaluate(AXE.read_text() + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{screen}: " + "\n".join(bad)


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.evaluate("() => window.innerWidth")
    assert width <= viewport, f"scrolls sideways: {width}px of content in {viewport}px"
