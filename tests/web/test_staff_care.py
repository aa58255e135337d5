"""Staff care activities in a real browser: the list of the CRM document (scopes all, mine,
my department, today; statuses planned, done, cancelled; search), a planned activity marked
done with its outcome (its points reach the customer once) and another cancelled with a
reason. axe-core and screenshots at desktop and 375 px."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal_tests.browser import choose
from portal_tests.e2e import Customer, eventually
from tests.web.test_staff import Staff, look, sign_in

pytestmark = pytest.mark.e2e


def plan(staff: Staff, contact_id: str, title: str, **fields: Any) -> dict[str, Any]:
    due = datetime.now(UTC).replace(hour=23, minute=0, second=0, microsecond=0)
    r = staff.http.post(
        "/api/v1/crm/care-activities",
        json={"contact_id": contact_id, "title": title, "due_at": due.isoformat(), **fields},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


# The first browser test of a module may also start the platform; the machine is slow.
@pytest.mark.timeout(900)
def test_care_activities_listed_done_and_cancelled(page: Page, portal: dict[str, Any]) -> None:
    sales = Staff(portal["url"], ["sales"], "sales")
    customer = Customer(portal["url"], wait_for_wallet=False)

    def in_crm() -> bool:
        found = sales.http.get("/api/v1/crm/customers", params={"q": customer.email}).json()
        return bool(found["items"])

    eventually(in_crm, what="the customer in the CRM")
    tag = uuid.uuid4().hex[:6]
    thanks = plan(
        sales, customer.account_id, f"Gọi cảm ơn {tag}", care_type_id="give-points", value=50
    )
    call = plan(sales, customer.account_id, f"Gọi hỏi thăm {tag}", care_type_id="call")

    sign_in(page, sales.email, "Tổng quan vận hành")
    # The rows carry their contact's name: the list reads no contact on its own.
    contact_reads: list[str] = []
    page.on(
        "request",
        lambda r: "/api/v1/crm/contacts/" in r.url and contact_reads.append(r.url),
    )
    page.get_by_role("navigation", name="Menu nhân viên").get_by_role(
        "link", name="Chăm sóc khách hàng"
    ).click()
    expect(page.get_by_role("heading", name="Hoạt động chăm sóc", level=2)).to_be_visible()
    search = page.get_by_role("textbox", name="Tìm kiếm")
    search.fill(tag)
    search.press("Enter")
    expect(page.get_by_test_id("care-total")).to_have_text("2 hoạt động")
    row = page.get_by_test_id(f"care-row-{thanks['id']}")
    expect(row).to_contain_text("Đã lên lịch")
    expect(row).to_contain_text("+50")
    expect(row.get_by_role("link", name="Acme Hosting")).to_be_visible()
    assert contact_reads == []
    look(page, "care")
    page.set_viewport_size({"width": 1280, "height": 900})

    row.get_by_role("button", name=f"Hoàn thành: Gọi cảm ơn {tag}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Kết quả").fill("Khách hài lòng")
    dialog.get_by_role("button", name="Xác nhận hoàn thành").click()
    expect(row).to_contain_text("Đã hoàn thành")
    assert customer.http.get("/api/v1/loyalty").json()["points"] == 50

    other = page.get_by_test_id(f"care-row-{call['id']}")
    other.get_by_role("button", name=f"Huỷ: Gọi hỏi thăm {tag}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Lý do huỷ").fill("Khách đổi lịch")
    dialog.get_by_role("button", name="Xác nhận huỷ").click()
    expect(other).to_contain_text("Đã huỷ")

    choose(page, "Trạng thái", "Đã hoàn thành")
    expect(page.get_by_test_id("care-total")).to_have_text("1 hoạt động")
    expect(page.get_by_test_id(f"care-row-{thanks['id']}")).to_be_visible()
    done = sales.http.get(f"/api/v1/crm/care-activities/{thanks['id']}").json()
    assert done["status"] == "done"
