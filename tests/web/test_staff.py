"""The staff side in a real browser: a platform staff user signs in and lands on the staff
dashboard; answers a ticket a customer opened through the API (the customer reads the reply
through the API); approves a payment claim; a customer who opens /staff is refused (and the API
refuses them too). axe-core on each screen and screenshots at desktop and 375 px."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from portal_tests.browser import axe, no_horizontal_scroll, shoot
from portal_tests.e2e import PASSWORD, Customer, admin_client, login, problem

pytestmark = pytest.mark.e2e


class Staff:
    """A platform staff user made by the platform admin, signed in through the JSON login."""

    def __init__(self, base_url: str, roles: list[str], department: str | None = None) -> None:
        self.email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
        r = admin_client(base_url).post(
            "/api/v1/staff/users",
            json={
                "email": self.email,
                "name": "Trần Thị Hoa",
                "password": PASSWORD,
                "platform_roles": roles,
                "department": department,
            },
        )
        assert r.status_code == 201, r.text
        token = login(base_url, self.email, PASSWORD)["access_token"]
        self.http = httpx.Client(
            base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture(scope="module")
def staff(portal: dict[str, Any]) -> Staff:
    # Tickets of every department (support) and the payment claims (billing).
    return Staff(portal["url"], ["support_agent", "billing_admin"], "technical")


def sign_in(page: Page, email: str, lands_on: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name=lands_on, level=2)).to_be_visible()


def look(page: Page, screen: str) -> None:
    """axe on the screen, no sideways scroll on a phone, and the screenshots to look at."""
    axe(page, screen)
    shoot(page, f"staff-{screen}")
    page.set_viewport_size({"width": 375, "height": 780})
    page.wait_for_timeout(300)
    no_horizontal_scroll(page)
    axe(page, f"{screen} (phone)")
    page.set_viewport_size({"width": 1280, "height": 860})


# The first browser test of a session also starts the platform; the machine is slow.
@pytest.mark.timeout(900)
def test_staff_sign_in_and_land_on_the_staff_dashboard(page: Page, staff: Staff) -> None:
    sign_in(page, staff.email, "Tổng quan vận hành")
    assert page.url.endswith("/staff")
    expect(page.get_by_role("navigation", name="Menu nhân viên")).to_be_visible()
    expect(page.get_by_text("Vi phạm SLA")).to_be_visible()
    expect(page.get_by_role("heading", name="Yêu cầu theo trạng thái")).to_be_visible()
    look(page, "dashboard")


def test_a_customer_opening_staff_is_refused(page: Page, portal: dict[str, Any]) -> None:
    customer = Customer(portal["url"], wait_for_wallet=False)
    sign_in(page, customer.email, "Tổng quan")
    assert not page.url.rstrip("/").endswith("/staff")
    page.goto("/staff")
    expect(page.get_by_role("heading", name="Không được phép truy cập", level=2)).to_be_visible()
    expect(page.get_by_text("Tổng quan vận hành")).to_have_count(0)
    look(page, "not-allowed")
    # The screen only follows the API: the staff routes refuse the customer themselves.
    problem(customer.http.get("/api/v1/staff/dashboard"), 403, "forbidden")


def test_reply_to_a_ticket_the_customer_opened(
    page: Page, portal: dict[str, Any], staff: Staff
) -> None:
    customer = Customer(portal["url"], wait_for_wallet=False)
    r = customer.http.post(
        "/api/v1/tickets",
        json={
            "department": "technical",
            "title": f"Website down {uuid.uuid4().hex[:6]}",
            "request_type": "incident",
            "priority": "high",
            "content": "Our site answers 502 since this morning.",
        },
    )
    assert r.status_code == 201, r.text
    ticket = r.json()

    sign_in(page, staff.email, "Tổng quan vận hành")
    page.get_by_role("navigation", name="Menu nhân viên").get_by_role(
        "link", name="Hàng đợi yêu cầu"
    ).click()
    page.get_by_label("Tìm (số, tiêu đề)").fill(ticket["ticket_number"])
    row = page.get_by_test_id(f"ticket-row-{ticket['ticket_number']}")
    expect(row).to_contain_text("Chờ nhân viên trả lời")
    look(page, "tickets")

    row.get_by_role("link", name=ticket["ticket_number"]).click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(ticket["ticket_number"])
    expect(page.get_by_text("Our site answers 502 since this morning.")).to_be_visible()
    page.get_by_role("button", name="Nhận xử lý").click()
    expect(page.get_by_text("Đang giao cho tôi")).to_be_visible()

    # An internal note first: visibly apart, and never shown to the customer.
    page.get_by_label("Ghi chú nội bộ (không gửi cho khách hàng)").check()
    page.get_by_label("Ghi chú nội bộ (khách hàng không thấy)").fill("Customer is on node web-7")
    page.get_by_role("button", name="Lưu ghi chú").click()
    expect(page.get_by_test_id("internal-note")).to_contain_text("Customer is on node web-7")
    page.get_by_label("Ghi chú nội bộ (không gửi cho khách hàng)").uncheck()

    page.get_by_label("Nội dung trả lời khách hàng").fill(
        "We restarted the web node; please check."
    )
    # Mantine's FileInput is a button that opens the file chooser.
    with page.expect_file_chooser() as chooser:
        page.get_by_label("Tệp đính kèm").click()
    chooser.value.set_files(
        files=[{"name": "status.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Gửi trả lời").click()
    expect(page.get_by_text("We restarted the web node; please check.")).to_be_visible()
    expect(page.get_by_role("button", name="status.pdf", exact=False)).to_be_visible()
    look(page, "ticket")

    seen = customer.http.get(f"/api/v1/tickets/{ticket['id']}").json()
    replies = [m for m in seen["messages"] if m["author_kind"] == "staff"]
    assert [m["content"] for m in replies] == ["We restarted the web node; please check."]
    assert [a["display_name"] for a in replies[0]["attachments"]] == ["status.pdf"]
    assert "web-7" not in str(seen)
    assert seen["agent_id"] is not None and seen["sla"]["first_response_at"] is not None


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_approve_a_payment_claim(page: Page, portal: dict[str, Any], staff: Staff) -> None:
    customer = Customer(portal["url"])
    r = customer.http.post("/api/v1/orders", json={"plan_id": "host-pro", "months": 12})
    assert r.status_code == 201, r.text
    invoice = r.json()
    reference = f"FT{uuid.uuid4().hex[:10].upper()}"
    r = customer.http.post(
        f"/api/v1/invoices/{invoice['id']}/payment-confirmation",
        json={
            "reference": reference,
            "amount": invoice["amount_due"],
            "proof": {"filename": "receipt.png", "content_base64": base64.b64encode(PNG).decode()},
        },
    )
    assert r.status_code == 201, r.text

    sign_in(page, staff.email, "Tổng quan vận hành")
    page.get_by_role("navigation", name="Menu nhân viên").get_by_role(
        "link", name="Duyệt thanh toán"
    ).click()
    row = page.get_by_test_id(f"claim-row-{reference}")
    expect(row).to_contain_text("Duyệt trước")
    look(page, "claims")

    row.get_by_role("button", name=f"Duyệt xác nhận {reference}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("img", name=f"Chứng từ chuyển khoản {reference}")).to_be_visible()
    axe(page, "claim review")
    shoot(page, "staff-claim-review")
    dialog.get_by_role("button", name="Duyệt thanh toán").click()
    expect(page.get_by_test_id(f"claim-row-{reference}")).to_have_count(0)

    claim = customer.http.get("/api/v1/payment-claims", params={"status": "approved"}).json()
    assert [c["reference"] for c in claim["items"]] == [reference]
    assert customer.http.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "paid"
