"""Repairs in a real browser: file a device intake with every field of the repair vendor's
portal, see its QR label, follow the chain of custody as staff move it on (through the API),
approve the quote on the page, and find it in the list; axe and screenshots."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal_tests.browser import PHONE, axe, choose, no_horizontal_scroll, shoot
from portal_tests.e2e import Customer, staff_client
from tests.web.test_portal import mark_document, not_reloaded, sign_in

pytestmark = pytest.mark.e2e


def steps(page: Page) -> list[str]:
    return [
        t.strip()
        for t in page.get_by_test_id("custody-step")
        .locator(".mantine-Timeline-itemTitle")
        .all_inner_texts()
    ]


@pytest.mark.timeout(900)
def test_file_a_repair_intake_and_follow_its_custody(page: Page, portal: dict[str, Any]) -> None:
    url = portal["url"]
    customer = Customer(url, wait_for_wallet=False)
    technician = staff_client(url, "technician", "technical")
    serial = f"PF-{uuid.uuid4().hex[:8].upper()}"
    sign_in(page, customer.email)
    mark_document(page)

    page.get_by_role("link", name="Sửa chữa").first.click()
    expect(page.get_by_role("heading", name="Sửa chữa thiết bị", level=2)).to_be_visible()
    expect(page.get_by_text("Chưa có thiết bị nào được đăng ký sửa chữa.")).to_be_visible()
    axe(page, "repairs-empty")

    page.get_by_role("link", name="Đăng ký thiết bị sửa chữa").click()
    expect(page.get_by_role("heading", name="Đăng ký thiết bị sửa chữa", level=2)).to_be_visible()
    save = page.get_by_role("button", name="Lưu phiếu").last
    # Client-side checks mirror RegistrationIn before anything is sent.
    save.click()
    expect(page.get_by_text("Vui lòng nhập model thiết bị")).to_be_visible()
    expect(page.get_by_text("Vui lòng chọn chi nhánh")).to_be_visible()
    page.get_by_role("textbox", name="Số serial").fill("SN#1")
    save.click()
    expect(page.get_by_text("Serial chỉ gồm chữ, số")).to_be_visible()

    page.get_by_role("textbox", name="Model thiết bị").fill("Lenovo ThinkPad T14 Gen 3")
    page.get_by_role("textbox", name="Số serial").fill(serial)
    page.get_by_role("textbox", name="Mô tả lỗi").fill("Không lên nguồn sau khi bị đổ nước")
    page.get_by_label("Kèm theo adapter (bộ sạc)").check()
    page.get_by_text("Trầy xước", exact=True).click()
    page.get_by_text("Móp méo", exact=True).click()
    page.get_by_role("textbox", name="Ghi chú tình trạng").fill("Dán tem bảo hành ở mặt đáy")
    choose(page, "Chi nhánh nhận thiết bị", "TP. Hồ Chí Minh, Quận 1")
    page.get_by_label("Nhân viên đến lấy").check()
    page.get_by_role("textbox", name="Họ tên người giao").fill("Trần Thị Bình")
    page.get_by_role("textbox", name="CCCD hoặc số điện thoại người giao").fill("0912345678")
    page.get_by_label("Gửi về địa chỉ").check()
    save.click()
    expect(page.get_by_text("Vui lòng nhập địa chỉ nhận thiết bị")).to_be_visible()
    page.get_by_role("textbox", name="Địa chỉ nhận").fill("12 Nguyễn Huệ, Quận 1, TP.HCM")
    axe(page, "repairs-new")
    shoot(page, "repairs-new")
    save.click()

    expect(page.get_by_text(re.compile(r"Đã đăng ký phiếu RP-"))).to_be_visible()
    heading = page.get_by_role("heading", level=2)
    expect(heading).to_contain_text("Lenovo ThinkPad T14 Gen 3")
    number = re.search(r"RP-[\w-]+", heading.inner_text())
    assert number, heading.inner_text()
    expect(page.get_by_test_id("repair-label")).to_be_visible()
    assert steps(page) == ["Đăng ký sửa chữa"]
    repairs = customer.http.get("/api/v1/repairs", params={"serial": serial}).json()["items"]
    assert [r["repair_number"] for r in repairs] == [number.group(0)]
    repair = customer.http.get(f"/api/v1/repairs/{repairs[0]['id']}").json()
    assert repair["adapter_included"] is True
    assert repair["delivery"] == {
        "method": "courier_pickup",
        "date": repair["delivery"]["date"],
        "deliverer_name": "Trần Thị Bình",
    }
    assert repair["return"] == {"method": "shipping", "address": "12 Nguyễn Huệ, Quận 1, TP.HCM"}
    assert repair["custody"][0]["condition"]["checklist"] == ["Trầy xước", "Móp méo"]
    rid = repair["id"]
    axe(page, "repairs-detail")
    shoot(page, "repairs-registered")

    # Staff move the device on at the branch; the page follows without reload.
    def staff(action: str, body: dict[str, Any]) -> None:
        r = technician.post(f"/api/v1/repairs/{rid}/{action}", json=body)
        assert r.status_code == 200, (action, r.text)

    staff("receive", {"branch_id": "HCM-Q1", "condition": {"checklist": ["Móp góc trái"]}})
    staff("diagnose", {"technician_id": "KTV Hùng"})
    staff(
        "quote",
        {"parts": [{"description": "Bo mạch nguồn", "amount": 1_500_000}], "labour": 300_000},
    )
    quote = page.get_by_test_id("quote")
    expect(quote.get_by_test_id("quote-amount")).to_have_text("1.800.000 ₫")
    assert steps(page) == [
        "Đăng ký sửa chữa",
        "Chi nhánh đã tiếp nhận thiết bị",
        "Kỹ thuật viên bắt đầu kiểm tra",
        "Đã gửi báo giá",
    ]
    expect(page.get_by_test_id("custody")).to_contain_text("Kỹ thuật viên: KTV Hùng")
    expect(page.get_by_test_id("custody")).to_contain_text("Tình trạng: Móp góc trái")
    not_reloaded(page)
    axe(page, "repairs-quote")
    shoot(page, "repairs-quote")

    quote.get_by_role("button", name="Duyệt báo giá").click()
    expect(page.get_by_text("Đã duyệt báo giá 1.800.000 ₫.")).to_be_visible()
    assert customer.http.get(f"/api/v1/repairs/{rid}").json()["status"] == "approved"

    staff("start", {})
    staff("ready", {})
    staff("return", {"method": "shipped", "carrier": "GHN", "tracking_number": "GHN8812345"})
    expect(page.get_by_test_id("custody")).to_contain_text("GHN · mã vận đơn GHN8812345")
    assert steps(page)[-4:] == [
        "Khách hàng duyệt báo giá",
        "Bắt đầu sửa chữa",
        "Sẵn sàng trả máy",
        "Đã trả thiết bị",
    ]
    expect(page.get_by_text("Đã trả máy").first).to_be_visible()
    not_reloaded(page)
    axe(page, "repairs-returned")
    shoot(page, "repairs-returned")

    page.get_by_role("link", name="Danh sách phiếu sửa chữa").click()
    row = page.get_by_test_id(f"repair-row-{number.group(0)}")
    expect(row).to_contain_text("Đã trả máy")
    expect(row).to_contain_text(serial)
    choose(page, "Trạng thái", "Đang sửa chữa")
    expect(page.get_by_text("Không có phiếu nào khớp bộ lọc.")).to_be_visible()
    page.get_by_role("button", name="Xoá bộ lọc").click()
    expect(row).to_be_visible()
    axe(page, "repairs-list")
    shoot(page, "repairs-list")


def test_reject_a_quote_and_repairs_at_phone_width(page: Page, portal: dict[str, Any]) -> None:
    url = portal["url"]
    customer = Customer(url, wait_for_wallet=False)
    technician = staff_client(url, "technician", "technical")
    r = customer.http.post(
        "/api/v1/repairs",
        json={
            "model": "Dell Latitude 5440",
            "serial": f"DL-{uuid.uuid4().hex[:8].upper()}",
            "problem": "Bàn phím liệt",
            "adapter_included": False,
            "delivery_method": "drop_off",
            "delivery_date": "2026-11-30",
            "deliverer_name": "Lê Văn Cường",
            "deliverer_contact": "079123456789",
            "branch_id": "HN-CG",
            "return_method": "pickup",
        },
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for action, body in (
        ("receive", {"branch_id": "HN-CG"}),
        ("diagnose", {"technician_id": "KTV Lan"}),
        ("quote", {"parts": [{"description": "Bàn phím", "amount": 650_000}], "labour": 0}),
    ):
        assert technician.post(f"/api/v1/repairs/{rid}/{action}", json=body).status_code == 200

    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    sign_in(page, customer.email)
    page.goto("/repairs")
    expect(page.get_by_test_id(f"repair-row-{r.json()['repair_number']}")).to_be_visible()
    no_horizontal_scroll(page)
    axe(page, "repairs-list-phone")
    page.goto(f"/repairs/{rid}")
    expect(page.get_by_test_id("quote-amount")).to_have_text("650.000 ₫")
    no_horizontal_scroll(page)
    page.get_by_role("button", name="Từ chối").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Thiết bị sẽ được trả lại không sửa chữa.")).to_be_visible()
    dialog.get_by_role("textbox", name="Lý do (không bắt buộc)").fill("Giá cao hơn dự kiến")
    axe(page, "repairs-reject")
    dialog.get_by_role("button", name="Xác nhận từ chối").click()
    expect(page.get_by_text("Bạn đã từ chối báo giá")).to_be_visible()
    expect(page.get_by_test_id("custody")).to_contain_text("Lý do: Giá cao hơn dự kiến")
    assert customer.http.get(f"/api/v1/repairs/{rid}").json()["status"] == "rejected"
    page.goto("/repairs/new")
    expect(page.get_by_role("heading", name="Đăng ký thiết bị sửa chữa", level=2)).to_be_visible()
    no_horizontal_scroll(page)
    axe(page, "repairs-new-phone")
