"""Plans and services in a real browser: buy a plan from the wallet, download its invoice PDF,
see the subscription and the purchase history, start a trial; axe and screenshots on each
tab."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from portal_tests.browser import (
    PHONE,
    axe_violations,
    fund,
    no_horizontal_scroll,
    settle,
    shoot,
    wallet_balance,
)
from portal_tests.e2e import Customer

pytestmark = pytest.mark.e2e

PRO_12 = 2_160_000  # 200.000 ₫ a month, 12 months, 10 % off


# The first browser test of a session also starts the platform; the machine is slow.
@pytest.mark.timeout(900)
def test_buy_a_plan_from_the_wallet_and_download_its_invoice(
    open_page: Callable[..., Page], customer: Customer, platform: dict[str, Any]
) -> None:
    fund(customer, platform["url"], 3_000_000)
    page = open_page(customer, "/services")

    expect(page.get_by_role("heading", name="Dịch vụ", level=2)).to_be_visible()
    pro = page.get_by_test_id("plan-host-pro")
    expect(pro).to_contain_text("Chuyên nghiệp")
    expect(pro).to_contain_text("2.160.000 ₫")
    # Support < Professional < Premium, left to right.
    names = page.locator("[data-testid^=plan-] h3").all_inner_texts()
    assert names == ["Hosting Support", "Hosting Professional", "Hosting Premium"], names
    assert axe_violations(page) == []
    shoot(page, "services-catalogue", phone_too=False)

    page.get_by_role("button", name="Mua Hosting Professional").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("radio", name=re.compile(r"^12 tháng")).check()
    dialog.get_by_role("button", name="Tiếp tục thanh toán").click()
    expect(dialog.get_by_test_id("amount-due")).to_have_text("2.160.000 ₫")
    assert axe_violations(page) == []
    settle()
    shoot(page, "services-buy", phone_too=False)
    dialog.get_by_role("button", name="Thanh toán", exact=True).click()
    expect(dialog.get_by_text("Thanh toán thành công")).to_be_visible()
    assert wallet_balance(customer) == 3_000_000 - PRO_12

    with page.expect_download() as download:
        dialog.get_by_role("button", name=re.compile(r"^PDF INV-")).click()
    saved = download.value.path()
    assert download.value.suggested_filename.startswith("INV-")
    assert saved is not None and saved.read_bytes().startswith(b"%PDF")
    dialog.get_by_role("button", name="Hoàn tất").click()

    page.get_by_role("tab", name="Dịch vụ của tôi").click()
    card = page.locator("[data-testid^=subscription-]")
    expect(card).to_contain_text("Hosting Professional")
    expect(card).to_contain_text(re.compile(r"còn 36[45] ngày"))
    expect(card.get_by_role("switch", name="Tự động gia hạn")).not_to_be_checked()
    assert axe_violations(page) == []
    shoot(page, "services-mine", phone_too=False)

    # The upgrade shows the previewed charge before anything is charged.
    card.get_by_role("button", name="Nâng cấp").click()
    preview = page.get_by_test_id("upgrade-preview")
    expect(preview).to_contain_text("Số tiền cần trả")
    assert axe_violations(page) == []
    shoot(page, "services-upgrade", phone_too=False)
    page.get_by_role("dialog").get_by_role("button", name="Huỷ").click()
    assert wallet_balance(customer) == 3_000_000 - PRO_12

    page.get_by_role("tab", name="Lịch sử mua hàng").click()
    expect(page.get_by_role("row", name=re.compile("Hosting Professional"))).to_contain_text(
        "2.160.000 ₫"
    )
    assert axe_violations(page) == []
    shoot(page, "services-history", phone_too=False)

    # A trial (seed 002, "đang dùng thử"): nothing to pay, shown with its end date.
    page.get_by_role("tab", name="Đăng ký dịch vụ").click()
    page.get_by_text("Phần mềm bán hàng", exact=True).click()
    page.get_by_role("button", name="Dùng thử Store software Professional").click()
    # 14 days on: the page's date is Vietnam's, a day ahead of UTC's from 17:00 UTC.
    ends = {
        (day + timedelta(days=14)).strftime("%d/%m/%Y")
        for day in (date.today(), datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date())
    }
    trial = page.get_by_test_id("trial-notice")
    expect(trial).to_contain_text(
        re.compile("Đang dùng thử đến (" + "|".join(map(re.escape, ends)) + ")")
    )
    expect(page.get_by_text("Dùng thử", exact=True)).to_be_visible()
    assert wallet_balance(customer) == 3_000_000 - PRO_12
    assert axe_violations(page) == []
    shoot(page, "services-trial", phone_too=False)

    # The dashboard's "service setup info" (seed 000): both orders, each set up.
    page.get_by_role("link", name="Tổng quan").first.click()
    orders = page.get_by_test_id("orders")
    expect(orders.locator("tbody tr")).to_have_count(2)
    expect(orders).to_contain_text("Hosting Professional")
    expect(orders.get_by_text("Đã cài đặt")).to_have_count(2)
    assert axe_violations(page) == []


def test_services_at_phone_width(open_page: Callable[..., Page], customer: Customer) -> None:
    page = open_page(customer, "/services", viewport=PHONE)
    expect(page.get_by_test_id("plan-host-pro")).to_be_visible()
    no_horizontal_scroll(page)
    assert axe_violations(page) == []
    shoot(page, "services-catalogue", phone_too=False)
    page.goto("/services?tab=history")
    expect(page.get_by_text("Chưa có lần mua nào.")).to_be_visible()
    no_horizontal_scroll(page)
