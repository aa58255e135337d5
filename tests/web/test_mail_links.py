"""The links the platform mails, opened in the browser: "forgot password" to a new
password, and the address confirmed from the banner's mail (issue 17's identity flows)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from portal_tests.browser import axe, shoot
from portal_tests.e2e import PASSWORD, Customer, eventually, mailed_link

NEW_PASSWORD = "a new horse battery"


def test_forgot_password_mails_a_link_that_sets_a_new_one(
    open_page: Callable[..., Page], portal: dict[str, Any]
) -> None:
    url, mail = portal["url"], portal["mail"]
    customer = Customer(url, wait_for_wallet=False)
    page = open_page(None, "/login")
    page.get_by_role("link", name="Quên mật khẩu?").click()
    expect(page.get_by_role("heading", name="Quên mật khẩu?")).to_be_visible()
    axe(page, "forgot-password")
    page.get_by_label("Email").fill(customer.email)
    page.get_by_role("button", name="Gửi liên kết cho tôi").click()
    expect(page.get_by_role("status")).to_contain_text("liên kết đang được gửi tới")
    shoot(page, "forgot-password", phone_too=False)

    token = mailed_link(mail, customer.email, "reset-password")
    page.goto(f"/reset-password?token={token}")
    expect(page.get_by_role("heading", name="Đặt mật khẩu mới")).to_be_visible()
    axe(page, "reset-password")
    page.get_by_label(re.compile(r"^Mật khẩu mới")).fill(NEW_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill("something else entirely")
    page.get_by_role("button", name="Đặt mật khẩu mới").click()
    expect(page.get_by_text("Hai mật khẩu không khớp")).to_be_visible()  # nothing sent yet
    page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Đặt mật khẩu mới").click()
    expect(page.get_by_role("status")).to_contain_text("Mật khẩu đã được đổi")
    shoot(page, "reset-password", phone_too=False)

    # The old password is refused, the new one signs in; the link does not work twice.
    old = httpx.post(
        f"{url}/api/v1/auth/login", json={"email": customer.email, "password": PASSWORD}
    )
    assert old.status_code == 401, old.text
    page.goto("/login")
    page.get_by_label("Email").fill(customer.email)
    page.get_by_label("Mật khẩu").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Tổng quan", level=2)).to_be_visible()
    page.goto(f"/reset-password?token={token}")
    page.get_by_label(re.compile(r"^Mật khẩu mới")).fill("yet another horse")
    page.get_by_label("Nhập lại mật khẩu mới").fill("yet another horse")
    page.get_by_role("button", name="Đặt mật khẩu mới").click()
    expect(page.get_by_role("alert")).to_contain_text("không còn hiệu lực")


def test_the_banner_asks_to_confirm_the_address_and_the_mailed_link_does(
    open_page: Callable[..., Page], portal: dict[str, Any]
) -> None:
    url, mail = portal["url"], portal["mail"]
    customer = Customer(url, wait_for_wallet=False, verify_email=False)
    page = open_page(customer, "/")
    banner = page.get_by_test_id("verify-email-banner")
    expect(banner).to_contain_text(customer.email)
    axe(page, "dashboard-unverified")
    shoot(page, "verify-email-banner", phone_too=False)
    first = mailed_link(mail, customer.email, "verify-email")
    banner.get_by_role("button", name="Gửi lại liên kết").click()
    expect(banner).to_contain_text("Liên kết mới đang được gửi tới")

    def a_second_link() -> str | None:
        token = mailed_link(mail, customer.email, "verify-email")
        return token if token != first else None

    token = eventually(a_second_link, timeout=120, what="the link sent again")
    page.goto(f"/verify-email?token={token}")
    expect(page.get_by_role("status")).to_contain_text("Địa chỉ email đã được xác nhận")
    axe(page, "verify-email")
    page.get_by_role("link", name="Về trang tổng quan").click()
    expect(page.get_by_role("heading", name="Tổng quan", level=2)).to_be_visible()
    expect(page.get_by_test_id("verify-email-banner")).to_have_count(0)
