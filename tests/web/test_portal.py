"""Journeys of a customer in the web portal, in Chromium, on the real platform."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from portal_tests.browser import PHONE, axe, no_horizontal_scroll, shoot
from portal_tests.e2e import PASSWORD, Customer, eventually, paid, webhook

pytestmark = pytest.mark.e2e


def money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def sign_in(page: Page, email: str, lands_on: str = "Tổng quan", go: bool = True) -> None:
    if go:
        page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name=lands_on, level=2)).to_be_visible()


def unread_with_receipts(customer: Customer, receipts: int) -> int:
    """The user's unread count once the bell holds this many top-up receipts (a sign-in
    from a new browser may have added a security notice beside them)."""

    def ready() -> dict[str, Any] | None:
        bell = customer.http.get("/api/v1/notifications").json()
        got = sum(e["template"] == "top_up_received" for e in bell["items"])
        return bell if got == receipts else None

    return int(eventually(ready, what=f"{receipts} receipts in the bell")["unread"])


def mark_document(page: Page) -> None:
    """A flag on the window: still there later means the page was never reloaded."""
    page.evaluate("() => { window.__noReload = 'still-here'; }")


def not_reloaded(page: Page) -> None:
    assert page.evaluate("() => window.__noReload") == "still-here"


def test_register_an_organisation_and_land_on_the_dashboard(page: Page) -> None:
    page.goto("/register")
    expect(page.get_by_role("heading", name="Đăng ký tài khoản")).to_be_visible()
    axe(page, "register")
    shoot(page, "register")
    # Client-side validation mirrors identity's rules before anything is sent.
    page.get_by_role("button", name="Đăng ký").click()
    expect(page.get_by_text("Vui lòng nhập tên tổ chức")).to_be_visible()
    page.get_by_label("Tên tổ chức").fill("Công ty TNHH Ánh Dương")
    page.get_by_label("Người liên hệ").fill("Nguyễn Văn An")
    page.get_by_label("Email").fill(f"an-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Mật khẩu").fill("short")
    page.get_by_role("button", name="Đăng ký").click()
    expect(page.get_by_text("Mật khẩu cần ít nhất 8 ký tự.")).to_be_visible()
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng ký").click()
    expect(page.get_by_role("heading", name="Tổng quan", level=2)).to_be_visible()
    expect(page.get_by_test_id("balance")).to_have_text(money(0))


def test_sign_in_top_up_by_transfer_and_see_it_arrive_without_reload(
    page: Page, portal: dict[str, Any]
) -> None:
    url = portal["url"]
    customer = Customer(url)
    page.goto("/login")
    axe(page, "sign-in")
    shoot(page, "sign-in")
    sign_in(page, customer.email)
    mark_document(page)

    page.get_by_role("link", name="Nạp tiền tài khoản").first.click()
    expect(page.get_by_role("heading", name="Nạp tiền tài khoản")).to_be_visible()
    axe(page, "top-up")
    shoot(page, "top-up")
    amount = page.get_by_label("Số tiền")
    amount.fill("5000")
    page.get_by_role("button", name="Tiến hành thanh toán").click()
    expect(page.get_by_text("Số tiền tối thiểu là 10.000 ₫")).to_be_visible()
    amount.fill("250000")
    page.get_by_label("Chuyển khoản ngân hàng (VietQR)").check()
    with page.expect_response(re.compile(r"/api/v1/wallet/top-ups$")) as answer:
        page.get_by_role("button", name="Tiến hành thanh toán").click()
    top_up = answer.value.json()
    assert answer.value.request.headers.get("idempotency-key")
    status = page.get_by_test_id("top-up-status")
    expect(status).to_have_attribute("data-status", "pending")
    expect(page.get_by_role("img", name="Mã VietQR để chuyển khoản")).to_be_visible()
    expect(page.get_by_text(top_up["payment"]["reference"], exact=True)).to_be_visible()
    expect(page.get_by_text("Vietcombank", exact=True)).to_be_visible()
    expect(page.get_by_text(money(250_000), exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Đang chờ thanh toán, còn \d\d:\d\d"))).to_be_visible()
    axe(page, "top-up payment")
    shoot(page, "top-up-payment")

    paid_now = webhook(url, paid(top_up["payment"]["reference"], 250_000))
    assert paid_now.status_code == 200, paid_now.text
    expect(page.get_by_text("Đã nhận được tiền")).to_be_visible()
    # The receipt rings the header's bell on this page too, live (the same SSE stream).
    bell = page.get_by_test_id("bell-count")
    expect(bell).to_have_attribute("data-count", str(unread_with_receipts(customer, 1)))

    page.get_by_role("link", name="Tổng quan").first.click()
    expect(page.get_by_test_id("balance")).to_have_text(money(250_000))
    # Money that lands while the dashboard is open shows without a reload (SSE).
    second = customer.top_up(100_000, method="bank_transfer").json()
    assert webhook(url, paid(second["payment"]["reference"], 100_000)).status_code == 200
    expect(page.get_by_test_id("balance")).to_have_text(money(350_000))
    expect(page.get_by_test_id("total-topped-up")).to_have_text(money(350_000))
    unread = unread_with_receipts(customer, 2)
    expect(bell).to_have_attribute("data-count", str(unread))
    not_reloaded(page)
    axe(page, "dashboard")
    shoot(page, "dashboard")

    # The bell's newest entry opens what it is about (the transactions) and is read then.
    page.get_by_role("button", name=f"Thông báo: {unread} chưa đọc").click()
    axe(page, "bell")
    shoot(page, "bell")
    page.get_by_test_id("bell-entry").filter(has_text=money(100_000)).click()
    expect(page.get_by_role("heading", name="Quản lý giao dịch")).to_be_visible()
    expect(bell).to_have_attribute("data-count", str(unread - 1))
    expect(page.get_by_text("2 giao dịch")).to_be_visible()
    axe(page, "transactions")
    shoot(page, "transactions")
    not_reloaded(page)


def test_sign_in_by_qr_approved_from_the_app(page: Page, portal: dict[str, Any]) -> None:
    url = portal["url"]
    app = Customer(url, wait_for_wallet=False)
    with page.expect_response(re.compile(r"/api/v1/auth/qr$")) as started:
        page.goto("/login/qr")
    challenge = started.value.json()
    expect(page.get_by_role("img", name="Mã QR đăng nhập")).to_be_visible()
    axe(page, "qr sign-in")
    shoot(page, "qr-sign-in")
    mark_document(page)
    approved = app.http.post(
        f"/api/v1/auth/qr/{challenge['id']}/approve", json={"device": "Điện thoại của An"}
    )
    assert approved.status_code == 200, approved.text
    expect(page.get_by_role("heading", name="Tổng quan", level=2)).to_be_visible()
    not_reloaded(page)
    me = page.evaluate("() => document.body.innerText")
    assert "Owner" in me  # the signed-in user's name in the header


def test_switch_to_english_and_back_and_the_choice_is_remembered(
    page: Page, portal: dict[str, Any]
) -> None:
    customer = Customer(portal["url"], wait_for_wallet=False)
    sign_in(page, customer.email)
    page.locator("label", has_text="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Dashboard", level=2)).to_be_visible()
    expect(page.get_by_role("link", name="Transactions", exact=True)).to_be_visible()
    assert page.evaluate("() => document.documentElement.lang") == "en"
    axe(page, "dashboard (en)")
    page.reload()  # the session cookie signs the page in again; the language stays
    expect(page.get_by_role("heading", name="Dashboard", level=2)).to_be_visible()
    page.locator("label", has_text="VI").click()
    expect(page.get_by_role("heading", name="Tổng quan", level=2)).to_be_visible()


def test_a_phone_sees_the_dashboard_without_sideways_scrolling(
    page: Page, portal: dict[str, Any]
) -> None:
    customer = Customer(portal["url"])
    reply = customer.top_up(1_234_567, method="bank_transfer").json()
    webhook(portal["url"], paid(reply["payment"]["reference"], 1_234_567))
    customer.wait_for_balance(1_234_567)
    page.set_viewport_size(PHONE)
    sign_in(page, customer.email)
    expect(page.get_by_test_id("balance")).to_have_text(money(1_234_567))
    no_horizontal_scroll(page)
    for path in ("/top-up", "/transactions"):
        page.goto(path)
        expect(page.get_by_role("heading", level=2)).to_be_visible()
        no_horizontal_scroll(page)
    page.get_by_role("button", name="Mở menu").click()
    expect(page.get_by_role("link", name="Tổng quan")).to_be_visible()
    axe(page, "phone navigation")


def test_deep_links_and_the_session_survive_a_reload(page: Page, portal: dict[str, Any]) -> None:
    customer = Customer(portal["url"], wait_for_wallet=False)
    page.goto("/transactions?kind=credit")
    expect(page).to_have_url(re.compile(r"/login$"))
    # Signed in, the deep link it came from opens, filter included.
    sign_in(page, customer.email, lands_on="Quản lý giao dịch", go=False)
    expect(page).to_have_url(re.compile(r"/transactions\?kind=credit$"))
    page.reload()
    expect(page.get_by_role("heading", name="Quản lý giao dịch")).to_be_visible()
    tokens = page.evaluate("() => JSON.stringify(localStorage) + document.cookie")
    assert "eyJ" not in tokens and "refresh" not in tokens  # no token the page can read
    index = httpx.get(f"{portal['url']}/no/such/page", headers={"Accept": "text/html"})
    assert index.status_code == 200 and '<div id="root">' in index.text
