"""The account area in a real browser: profile, logo, inviting a user who accepts in a second
browser, two-factor set-up confirmed with a code computed here, loyalty and the timeline;
axe and screenshots on each tab, and the phone width."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import FilePayload, Page, expect

from portal_tests.browser import (
    PHONE,
    axe_violations,
    choose,
    fund,
    no_horizontal_scroll,
    settle,
    shoot,
)
from portal_tests.e2e import PASSWORD, Customer, eventually, login, mailed_token

pytestmark = pytest.mark.e2e

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def me(customer: Customer) -> dict[str, Any]:
    return customer.http.get("/api/v1/me").json()  # type: ignore[no-any-return]


def tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")


# The first browser test of a session also starts the platform; the machine is slow.
@pytest.mark.timeout(900)
def test_profile_and_logo(open_page: Callable[..., Page], customer: Customer) -> None:
    page = open_page(customer, "/account")
    expect(page.get_by_role("heading", name="Tài khoản", level=2)).to_be_visible()
    expect(page.get_by_label("Họ và tên")).to_have_value("Owner")
    assert axe_violations(page) == []
    shoot(page, "account-profile")

    page.get_by_label("Họ và tên").fill("Nguyễn Thị Bình")
    page.get_by_label("Số điện thoại").fill("12")
    page.get_by_role("button", name="Lưu thay đổi").click()
    expect(page.get_by_text("Số điện thoại chưa hợp lệ.")).to_be_visible()
    assert me(customer)["name"] == "Owner"  # refused before anything was sent
    page.get_by_label("Số điện thoại").fill("+84 912 345 678")
    page.get_by_role("button", name="Lưu thay đổi").click()
    expect(page.get_by_text("Đã lưu thông tin.")).to_be_visible()
    profile = me(customer)
    assert (profile["name"], profile["phone"]) == ("Nguyễn Thị Bình", "+84 912 345 678")
    # The header shows the new name without a reload.
    expect(page.get_by_role("banner").get_by_text("Nguyễn Thị Bình")).to_be_visible()

    page.locator("input[type=file]").set_input_files(
        files=[FilePayload(name="logo.png", mimeType="image/png", buffer=PNG)]
    )
    eventually(lambda: me(customer)["logo_url"], what="the logo")
    expect(page.get_by_test_id("logo").locator("img")).to_be_visible()
    assert axe_violations(page) == []

    # The account's time zone, kept by identity for every user of the account.
    choose(page, "Múi giờ", "Asia/Tokyo")
    page.get_by_role("button", name="Lưu múi giờ").click()
    expect(page.get_by_text("Đã lưu múi giờ.")).to_be_visible()
    assert me(customer)["time_zone"] == "Asia/Tokyo"


@pytest.mark.timeout(900)
def test_invite_a_user_who_accepts_in_another_browser(
    open_page: Callable[..., Page], customer: Customer, platform: dict[str, Any]
) -> None:
    page = open_page(customer, "/account?tab=users")
    email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Email người được mời").fill("not an email")
    page.get_by_role("button", name="Gửi lời mời").click()
    expect(page.get_by_text("Email chưa hợp lệ.")).to_be_visible()
    page.get_by_label("Email người được mời").fill(email)
    page.get_by_role("button", name="Gửi lời mời").click()
    expect(page.get_by_text(f"Đã gửi lời mời tới {email}")).to_be_visible()
    row = page.get_by_test_id(f"user-{email}")
    expect(row).to_contain_text("Đã mời")
    assert axe_violations(page) == []
    shoot(page, "account-users")

    # The mailed link, opened by the invited person in a browser of their own.
    token = mailed_token(platform, email, "invitation")
    invited = open_page(None, f"/invitations/{token}")
    expect(invited.get_by_role("heading", name="Nhận lời mời")).to_be_visible()
    assert axe_violations(invited) == []
    shoot(invited, "account-invitation")
    invited.get_by_label("Họ và tên").fill("Trần Văn Cường")
    invited.get_by_label("Mật khẩu").fill("staff password 1")
    invited.get_by_role("button", name="Nhận lời mời và đăng nhập").click()
    expect(invited.get_by_role("heading", name="Tổng quan", level=2)).to_be_visible()
    expect(invited.get_by_role("banner").get_by_text("Trần Văn Cường")).to_be_visible()

    # The owner sees the user active and makes them an admin.
    page.reload()
    row = page.get_by_test_id(f"user-{email}")
    expect(row).to_contain_text("Đang hoạt động")
    choose(row, f"Vai trò của {email}", "Quản trị")

    def role() -> str | None:
        items = customer.http.get("/api/v1/account/users").json()["items"]
        return next((u["role"] for u in items if u["email"] == email), None)

    eventually(lambda: role() == "admin", what="the new role")

    # Removed after a confirmation: gone from the list and from the account.
    page.get_by_role("button", name=f"Xoá {email} khỏi tài khoản").click()
    dialog = page.get_by_role("dialog", name="Xoá người dùng?")
    expect(dialog).to_contain_text("không thể đăng nhập vào tài khoản này nữa")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Xoá khỏi tài khoản").click()
    expect(page.get_by_test_id(f"user-{email}")).to_have_count(0)
    assert role() is None


@pytest.mark.timeout(900)
def test_two_factor_set_up_with_the_qr_and_recovery_codes(
    open_page: Callable[..., Page], customer: Customer, platform: dict[str, Any]
) -> None:
    phone = login(platform["url"], customer.email, PASSWORD)  # signed in elsewhere too
    page = open_page(customer, "/account?tab=security")
    # The sign-in sessions: this browser's is marked; the phone's is signed out from here.
    sessions = page.get_by_test_id("sessions")
    expect(sessions.get_by_text("Thiết bị này")).to_be_visible()
    sessions.get_by_test_id(f"session-{phone['session_id']}").get_by_role("button").click()
    expect(page.get_by_text("Đã đăng xuất phiên đó.")).to_be_visible()
    expect(sessions.get_by_test_id(f"session-{phone['session_id']}")).to_have_count(0)
    refreshed = httpx.post(
        f"{platform['url']}/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}
    )
    assert refreshed.status_code == 401

    expect(page.get_by_text("Bảo vệ tài khoản bằng mã 6 số")).to_be_visible()
    with page.expect_response(re.compile(r"/api/v1/me/2fa$")) as started:
        page.get_by_role("button", name="Thiết lập xác thực hai bước").click()
    secret = started.value.json()["secret"]
    expect(page.get_by_role("img", name="Mã QR thiết lập xác thực hai bước")).to_be_visible()
    expect(page.get_by_text(secret, exact=True)).to_be_visible()
    assert axe_violations(page) == []
    settle()
    shoot(page, "account-2fa-setup")

    code = page.get_by_label("Mã xác thực (6 số)")
    code.fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="Xác nhận và bật").click()
    expect(page.get_by_text("Mã xác thực không đúng.")).to_be_visible()
    assert me(customer)["two_factor"] is False

    code.fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Xác nhận và bật").click()
    codes = page.get_by_test_id("recovery-codes")
    expect(codes).to_contain_text("Đã bật xác thực hai bước.")
    assert len(codes.locator("code").all_inner_texts()) >= 5
    assert me(customer)["two_factor"] is True
    assert axe_violations(page) == []
    shoot(page, "account-2fa-codes")
    page.get_by_role("button", name="Tôi đã lưu các mã").click()
    expect(page.get_by_text("Xác thực hai bước đang bật.")).to_be_visible()


@pytest.mark.timeout(900)
def test_loyalty_and_the_timeline_with_its_filter(
    open_page: Callable[..., Page], customer: Customer, platform: dict[str, Any]
) -> None:
    fund(customer, platform["url"], 500_000)

    def wallet_entries() -> int:
        r = customer.http.get("/api/v1/timeline", params={"context": "wallet"})
        return int(r.json()["total"])

    eventually(wallet_entries, what="the top-up on the timeline")
    page = open_page(customer, "/account?tab=loyalty")
    expect(page.get_by_test_id("loyalty-why")).to_contain_text("vì tổng tiền tích luỹ là")
    expect(page.get_by_test_id("loyalty-accumulated")).to_have_text(re.compile(r"₫$"))
    assert axe_violations(page) == []
    shoot(page, "account-loyalty")

    tab(page, "Lịch sử hoạt động")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator("li").first).to_be_visible()
    choose(page, "Lọc theo", "Ví")
    badges = timeline.locator("li .mantine-Badge-label")
    # The filtered page replaces the whole list: wait until no other context is left.
    expect(badges.filter(has_not_text="Ví")).to_have_count(0)
    expect(badges.first).to_have_text("Ví")
    assert set(badges.all_text_contents()) == {"Ví"}  # shown in capitals by CSS
    # Worded in Vietnamese from the entry's key and values, the money formatted here.
    expect(timeline).to_contain_text(re.compile(r"Nạp tiền thành công 500\.000\s₫"))
    assert axe_violations(page) == []
    shoot(page, "account-timeline")


def test_account_at_phone_width(open_page: Callable[..., Page], customer: Customer) -> None:
    page = open_page(customer, "/account", viewport=PHONE)
    expect(page.get_by_label("Họ và tên")).to_have_value("Owner")
    no_horizontal_scroll(page)
    for name, path in (
        ("users", "/account?tab=users"),
        ("security", "/account?tab=security"),
        ("loyalty", "/account?tab=loyalty"),
        ("timeline", "/account?tab=timeline"),
    ):
        page.goto(path)
        expect(page.get_by_role("tab", selected=True)).to_be_visible()
        no_horizontal_scroll(page)
        assert axe_violations(page) == [], name
        shoot(page, f"account-{name}", phone_too=False)


def test_transactions_stack_as_cards_on_a_phone(
    open_page: Callable[..., Page], customer: Customer, platform: dict[str, Any]
) -> None:
    fund(customer, platform["url"], 1_234_567)
    page = open_page(customer, "/transactions", viewport=PHONE)
    card = page.get_by_test_id("transaction-card")
    expect(card).to_contain_text("+1.234.567 ₫")
    expect(page.get_by_role("table")).to_have_count(0)
    no_horizontal_scroll(page)
    assert axe_violations(page) == []
    shoot(page, "transactions", phone_too=False)
