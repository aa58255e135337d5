"""Invoices in a real browser: pay a proforma invoice in part, then stop the order and see what
went back to the wallet; the lists, the claim form with its 24-hour promise; axe and
screenshots."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from portal_tests.browser import (
    PHONE,
    axe_violations,
    fund,
    no_horizontal_scroll,
    settle,
    shoot,
    wallet_balance,
)
from portal_tests.e2e import Customer, eventually

pytestmark = pytest.mark.e2e

PRO_12 = 2_160_000


def order(customer: Customer, plan_id: str = "host-pro", months: int = 12) -> dict[str, Any]:
    r = customer.http.post("/api/v1/orders", json={"plan_id": plan_id, "months": months})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


# The first browser test of a session also starts the platform; the machine is slow.
@pytest.mark.timeout(900)
def test_pay_an_invoice_in_part_then_stop(
    open_page: Callable[..., Page], customer: Customer, platform: dict[str, Any]
) -> None:
    fund(customer, platform["url"], 1_000_000)
    invoice = order(customer)
    page = open_page(customer, "/invoices")

    row = page.get_by_test_id(f"invoice-row-{invoice['proforma_number']}")
    expect(row).to_contain_text("Chưa thanh toán")
    expect(row).to_contain_text("2.160.000 ₫")
    assert axe_violations(page) == []
    shoot(page, "invoices-proforma", phone_too=False)

    row.get_by_role("link", name=invoice["proforma_number"]).click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(invoice["proforma_number"])
    page.get_by_label("Thanh toán một phần").check()
    page.get_by_label("Số tiền thanh toán lần này").fill("300000")
    page.get_by_role("button", name="Thanh toán", exact=True).click()

    expect(page.get_by_text("Thanh toán chưa đủ")).to_be_visible()
    summary = page.get_by_test_id("invoice-summary")
    expect(summary).to_contain_text("300.000 ₫")
    expect(summary).to_contain_text("1.860.000 ₫")
    assert wallet_balance(customer) == 700_000
    assert axe_violations(page) == []
    shoot(page, "invoices-part-paid", phone_too=False)

    # Stop: what goes back to the wallet is shown before anything is done.
    page.get_by_role("button", name="Dừng thanh toán").click()
    expect(page.get_by_test_id("stop-refund")).to_contain_text("300.000 ₫")
    assert wallet_balance(customer) == 700_000
    assert axe_violations(page) == []
    settle()
    shoot(page, "invoices-stop", phone_too=False)
    page.get_by_role("dialog").get_by_role("button", name="Xác nhận dừng").click()
    expect(page.get_by_text(re.compile(r"Đơn hàng đã dừng.*300\.000 ₫"))).to_be_visible()
    expect(page.get_by_text("Đã dừng").first).to_be_visible()
    assert customer.http.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "cancelled"
    # The refund reaches the wallet through its event (eventually, not at once).
    eventually(lambda: wallet_balance(customer) == 1_000_000, what="the refund to the wallet")

    page.goto("/invoices?tab=cancelled")
    expect(page.get_by_test_id(f"invoice-row-{invoice['proforma_number']}")).to_be_visible()


def test_claim_i_paid_but_got_no_confirmation(
    open_page: Callable[..., Page], customer: Customer
) -> None:
    invoice = order(customer, "host-sup", 1)
    page = open_page(customer, f"/invoices/{invoice['id']}")
    page.get_by_role("button", name=re.compile("chưa nhận được xác nhận")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Trong vòng 24 giờ")).to_be_visible()
    dialog.get_by_label("Mã giao dịch / nội dung chuyển khoản").fill("FT2611301234")
    # Mantine's FileInput is a button over a hidden file input.
    dialog.locator("input[type=file]").set_input_files(
        files=[FilePayload(name="bien-lai.png", mimeType="image/png", buffer=PNG)]
    )
    assert axe_violations(page) == []
    shoot(page, "invoices-claim", phone_too=False)
    dialog.get_by_role("button", name="Gửi xác nhận").click()
    expect(dialog.get_by_text("Đã gửi xác nhận thanh toán")).to_be_visible()
    dialog.get_by_role("button", name="Hoàn tất").click()

    page.goto("/invoices?tab=review")
    expect(page.get_by_role("row", name=re.compile("FT2611301234"))).to_contain_text(
        "Đang xét duyệt"
    )
    assert axe_violations(page) == []
    shoot(page, "invoices-review", phone_too=False)
    claims = customer.http.get("/api/v1/payment-claims").json()["items"]
    assert [c["proof_file_id"] is not None for c in claims] == [True]


def test_invoices_at_phone_width(open_page: Callable[..., Page], customer: Customer) -> None:
    invoice = order(customer, "host-sup", 1)
    page = open_page(customer, "/invoices", viewport=PHONE)
    expect(page.get_by_test_id(f"invoice-row-{invoice['proforma_number']}")).to_be_visible()
    no_horizontal_scroll(page)
    shoot(page, "invoices-proforma", phone_too=False)
    page.goto(f"/invoices/{invoice['id']}")
    expect(page.get_by_test_id("amount-due")).to_have_text("100.000 ₫")
    no_horizontal_scroll(page)
    assert axe_violations(page) == []
    shoot(page, "invoices-detail", phone_too=False)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
