"""Support in a real browser: open a ticket with an image attachment (upload progress), see the
staff reply arrive in the conversation without reload, answer it, then rate the resolved ticket;
the list's columns and filters; axe and screenshots at desktop and phone width."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from portal_tests.browser import PHONE, axe, choose, no_horizontal_scroll, shoot
from portal_tests.e2e import Customer, staff_client
from tests.web.test_portal import mark_document, not_reloaded, sign_in

pytestmark = pytest.mark.e2e


def picture(width: int = 48, height: int = 32) -> bytes:
    """A small real PNG (a blue and orange picture), so the thumbnail has something to show."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    blue, orange = b"\x1c\x7e\xd6", b"\xfd\x7e\x14"
    row = b"\x00" + blue * (width // 2) + orange * (width - width // 2)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


# The first browser test of a module may also start the platform; the machine is slow.
@pytest.mark.timeout(900)
def test_open_a_ticket_with_an_image_and_see_the_staff_reply(
    page: Page, portal: dict[str, Any]
) -> None:
    url = portal["url"]
    customer = Customer(url, wait_for_wallet=False)
    agent = staff_client(url, "support_agent", "technical")
    sign_in(page, customer.email)
    mark_document(page)

    page.get_by_role("link", name="Hỗ trợ").first.click()
    expect(page.get_by_role("heading", name="Hỗ trợ", level=2)).to_be_visible()
    expect(page.get_by_text("Chưa có ticket nào.")).to_be_visible()
    axe(page, "support-empty")

    page.get_by_role("link", name="Gửi ticket hỗ trợ").click()
    expect(page.get_by_role("heading", name="Tạo ticket hỗ trợ mới")).to_be_visible()
    # Client-side checks mirror the API's before anything is sent.
    page.get_by_role("button", name="Tạo ticket mới").click()
    expect(page.get_by_text("Vui lòng chọn phòng nhận ticket")).to_be_visible()
    expect(page.get_by_text("Vui lòng nhập tiêu đề")).to_be_visible()
    page.get_by_role("textbox", name="Mã đơn hàng / hợp đồng liên quan").fill("x")
    page.get_by_role("button", name="Tạo ticket mới").click()
    expect(page.get_by_text("Mã gồm chữ in hoa, số và dấu gạch ngang")).to_be_visible()
    page.get_by_role("textbox", name="Mã đơn hàng / hợp đồng liên quan").fill("")

    choose(page, "Phòng nhận ticket", "Kỹ thuật")
    page.get_by_role("textbox", name="Tiêu đề ticket").fill("Website trắng trang sau khi gia hạn")
    choose(page, "Mức ưu tiên", "Cao")
    page.get_by_role("textbox", name="Nội dung yêu cầu hỗ trợ").fill(
        "Từ sáng nay trang chủ chỉ hiện trang trắng. Ảnh chụp màn hình đính kèm."
    )
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("add-files").click()
    chooser.value.set_files(
        files=[FilePayload(name="Ảnh lỗi trang chủ.png", mimeType="image/png", buffer=picture())]
    )
    expect(page.get_by_text("Ảnh lỗi trang chủ.png")).to_be_visible()
    axe(page, "support-new")
    shoot(page, "support-new")
    page.get_by_role("button", name="Tạo ticket mới").click()

    expect(page.get_by_text(re.compile(r"Đã tạo ticket TK-"))).to_be_visible()
    heading = page.get_by_role("heading", level=2)
    expect(heading).to_contain_text("Website trắng trang sau khi gia hạn")
    number = re.search(r"TK-[\w-]+", heading.inner_text())
    assert number, heading.inner_text()
    mine = page.get_by_test_id("message-customer")
    expect(mine).to_contain_text("Từ sáng nay trang chủ chỉ hiện trang trắng")
    # The file keeps the name it was sent under, and its picture is shown.
    expect(mine.get_by_role("button", name="Tải Ảnh lỗi trang chủ.png")).to_be_visible()
    expect(mine.get_by_role("img", name="Ảnh lỗi trang chủ.png")).to_be_visible()
    expect(page.get_by_text("Chờ nhân viên trả lời")).to_be_visible()

    # The support agent answers through the API; the page shows it by itself.
    tickets = agent.get("/api/v1/tickets", params={"q": number.group(0)}).json()["items"]
    assert [t["ticket_number"] for t in tickets] == [number.group(0)]
    ticket_id = tickets[0]["id"]
    r = agent.post(
        f"/api/v1/tickets/{ticket_id}/replies",
        json={
            "content": "Chúng tôi đã khôi phục bộ nhớ đệm, anh/chị kiểm tra lại giúp.",
            "then_status": "waiting_for_customer",
        },
    )
    assert r.status_code == 201, r.text
    staff = page.get_by_test_id("message-staff")
    expect(staff).to_contain_text("Chúng tôi đã khôi phục bộ nhớ đệm")
    expect(page.get_by_text("Chờ khách hàng phản hồi")).to_be_visible()
    not_reloaded(page)
    axe(page, "support-conversation")
    shoot(page, "support-conversation")

    # The customer answers; the ticket goes back to the agent.
    page.get_by_role("textbox", name="Nội dung trả lời").fill("Đã hoạt động lại, cảm ơn!")
    page.get_by_role("button", name="Gửi trả lời").click()
    expect(page.get_by_text("Đã gửi trả lời")).to_be_visible()
    expect(page.get_by_test_id("message-customer")).to_have_count(2)
    assert customer.http.get(f"/api/v1/tickets/{ticket_id}").json()["status"] == "open"

    # Resolved by the agent: the customer rates it.
    r = agent.post(f"/api/v1/tickets/{ticket_id}/status", json={"status": "resolved"})
    assert r.status_code == 200, r.text
    page.reload()
    expect(page.get_by_role("heading", name="Đánh giá hỗ trợ")).to_be_visible()
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_text("Vui lòng chọn số sao")).to_be_visible()
    # Mantine draws each star as the label of a visually hidden radio input: click the star.
    star = page.get_by_role("radio", name="5 sao")
    page.locator(f'label[for="{star.get_attribute("id")}"]').click()
    expect(star).to_be_checked()
    page.get_by_role("textbox", name="Nhận xét (không bắt buộc)").fill("Nhanh và rõ ràng")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_test_id("rated")).to_contain_text("5/5")
    assert customer.http.get(f"/api/v1/tickets/{ticket_id}").json()["rating"] == 5

    # The list: stage, status, priority and response columns, and its filters.
    page.get_by_role("link", name="Danh sách ticket").click()
    row = page.get_by_test_id(f"ticket-row-{number.group(0)}")
    expect(row).to_contain_text("Kỹ thuật")
    expect(row).to_contain_text("Hoàn tất")
    expect(row).to_contain_text("Cao")
    choose(page, "Mức ưu tiên", "Thấp")
    expect(page.get_by_text("Không có ticket nào khớp bộ lọc.")).to_be_visible()
    page.get_by_role("button", name="Xoá bộ lọc").click()
    expect(row).to_be_visible()
    axe(page, "support-list")
    shoot(page, "support-list")


def test_support_at_phone_width(page: Page, portal: dict[str, Any]) -> None:
    customer = Customer(portal["url"], wait_for_wallet=False)
    r = customer.http.post(
        "/api/v1/tickets",
        json={"department": "billing", "title": "Xuất hoá đơn VAT", "content": "Cho tháng 11."},
    )
    assert r.status_code == 201, r.text
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    sign_in(page, customer.email)
    page.goto("/support")
    expect(page.get_by_test_id(f"ticket-row-{r.json()['ticket_number']}")).to_be_visible()
    no_horizontal_scroll(page)
    axe(page, "support-list-phone")
    page.goto(f"/support/{r.json()['id']}")
    expect(page.get_by_test_id("message-customer")).to_contain_text("Cho tháng 11.")
    no_horizontal_scroll(page)
    axe(page, "support-conversation-phone")
    page.goto("/support/new")
    expect(page.get_by_role("heading", name="Tạo ticket hỗ trợ mới")).to_be_visible()
    no_horizontal_scroll(page)
