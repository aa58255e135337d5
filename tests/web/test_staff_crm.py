"""The staff CRM in a real browser: contacts and customers with the CRM document's columns,
filtered by group, scope, label and a name search, paged by the API; a customer's detail with
the level and "why this level"; a care action ("give accumulated money") recorded on the page
moves the customer to the next level and shows in the care history. axe-core and screenshots
at desktop and 375 px."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal_tests.browser import PHONE, axe, choose, no_horizontal_scroll, shoot
from portal_tests.e2e import Customer, eventually
from tests.web.test_staff import Staff, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sales(portal: dict[str, Any]) -> Staff:
    return Staff(portal["url"], ["sales"], "sales")


def contact(staff: Staff, name: str, **fields: Any) -> dict[str, Any]:
    r = staff.http.post("/api/v1/crm/contacts", json={"name": name, **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


def table_fits(page: Page) -> None:
    box = page.get_by_role("region", name="Khách hàng & liên hệ")
    sizes = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert sizes[0] <= sizes[1], f"the table is {sizes[0]}px wide in a {sizes[1]}px box"
    last = page.get_by_role("columnheader", name="Cập nhật").bounding_box()
    viewport = page.viewport_size
    assert last is not None and viewport is not None
    assert last["x"] + last["width"] <= viewport["width"], f"'Cập nhật' ends at {last}"
    no_horizontal_scroll(page)


# The first browser test of a module may also start the platform; the machine is slow.
@pytest.mark.timeout(900)
def test_contacts_filtered_and_paged(page: Page, sales: Staff) -> None:
    tag = uuid.uuid4().hex[:6]
    hot = contact(
        sales,
        f"Công ty TNHH Ánh Dương {tag}",
        phone="0901234567",
        email=f"anh-duong-{tag}@example.com",
        tax_code="0312345678",
        group="hot",
        unit="Kinh doanh",
        labels=["premium"],
    )
    cold = contact(sales, f"Nguyễn Văn Bình {tag}", party_type="person", group="cold")
    leads = [  # with the two above: more than a page of this search
        contact(sales, f"Lead {tag} {n:02d}", group="new_from_ads") for n in range(21)
    ]

    sign_in(page, sales.email, "Tổng quan vận hành")
    page.get_by_role("navigation", name="Menu nhân viên").get_by_role(
        "link", name="Khách hàng & liên hệ"
    ).click()
    expect(page.get_by_role("heading", name="Khách hàng & liên hệ", level=2)).to_be_visible()
    search = page.get_by_role("textbox", name="Tìm kiếm")
    search.fill(tag)
    search.press("Enter")
    expect(page.get_by_test_id("crm-total")).to_have_text("23 bản ghi")
    # Paged by the API: 20 rows, then the rest on page 2.
    expect(page.locator("tbody tr")).to_have_count(20)
    page.get_by_role("button", name="Trang 2").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    # Sorted by the API from a header (a button: the keyboard reaches it), kept in the
    # address; a new order starts again at page 1.
    by_name = page.get_by_role("columnheader", name="Tên liên hệ")
    expect(by_name).to_have_attribute("aria-sort", "none")
    by_name.get_by_role("button").click()
    expect(by_name).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("tbody tr").first).to_have_attribute("data-testid", f"crm-row-{hot['id']}")
    by_name.get_by_role("button").press("Enter")
    expect(by_name).to_have_attribute("aria-sort", "descending")
    expect(page.locator("tbody tr").first).to_have_attribute("data-testid", f"crm-row-{cold['id']}")
    assert "sort=-name" in page.url and "page=" not in page.url
    # A bulk action on ticked rows: the bar counts them, the API's answer is notified.
    page.get_by_role("checkbox", name="Chọn tất cả trên trang này").check()
    expect(page.get_by_test_id("crm-selected")).to_have_text("Đã chọn 20")
    page.get_by_role("checkbox", name="Chọn tất cả trên trang này").uncheck()
    page.get_by_role("checkbox", name=f"Chọn {cold['general']['name']}").check()
    page.get_by_role("checkbox", name=f"Chọn {leads[-1]['general']['name']}").check()
    bar = page.get_by_role("region", name="Thao tác hàng loạt")
    bar.get_by_role("button", name="Gắn nhãn").click()
    dialog = page.get_by_role("dialog", name="Gắn nhãn cho 2 liên hệ")
    choose(dialog, "Nhãn", "Hot")
    dialog.get_by_role("button", name="Gắn nhãn").click()
    expect(page.get_by_text("Đã gắn nhãn Hot cho 2 liên hệ")).to_be_visible()
    expect(page.get_by_test_id(f"crm-row-{cold['id']}")).to_contain_text("Hot")
    expect(page.get_by_test_id("crm-selected")).to_have_count(0)

    choose(page, "Nhóm", "Khách hàng nóng")
    row = page.get_by_test_id(f"crm-row-{hot['id']}")
    expect(page.locator("tbody tr")).to_have_count(1)
    for text in ("0901234567", f"anh-duong-{tag}@example.com", "Kinh doanh", "Premium", "Tổ chức"):
        expect(row).to_contain_text(text)
    expect(row.get_by_text("Khách hàng nóng")).to_be_visible()
    # At 1280 px every column shows, the last one ("Cập nhật") within the page and the table
    # within its box: nothing is cut off or hidden behind a sideways scroll.
    table_fits(page)
    axe(page, "crm-list")
    shoot(page, "staff-crm-list")

    choose(page, "Nhóm", "Khách hàng lạnh")
    expect(page.get_by_test_id(f"crm-row-{cold['id']}")).to_contain_text("Cá nhân")
    expect(page.locator("tbody tr")).to_have_count(1)
    choose(page, "Nhãn", "Premium")
    expect(page.get_by_text("Không có liên hệ nào khớp bộ lọc.")).to_be_visible()
    page.get_by_role("button", name="Xoá bộ lọc").click()
    search.fill(tag)
    search.press("Enter")
    # The leads nobody holds yet: all 23 of this search (none is assigned).
    choose(page, "Phạm vi", "Chưa chia lead")
    expect(page.get_by_test_id("crm-total")).to_have_text("23 bản ghi")
    choose(page, "Phạm vi", "Tôi đang giữ")
    expect(page.get_by_text("Không có liên hệ nào khớp bộ lọc.")).to_be_visible()

    page.set_viewport_size(PHONE)
    choose(page, "Phạm vi", "Tất cả")
    expect(page.get_by_test_id("crm-total")).to_have_text("23 bản ghi")
    # On a phone the table scrolls inside its own box; the page itself never does.
    no_horizontal_scroll(page)
    updated = page.get_by_role("columnheader", name="Cập nhật")
    page.get_by_role("region", name="Khách hàng & liên hệ").evaluate(
        "box => box.scrollTo(box.scrollWidth, 0)"
    )
    expect(updated).to_be_in_viewport()
    no_horizontal_scroll(page)
    axe(page, "crm-list-phone")


def test_give_accumulated_money_moves_a_customer_up_a_level(
    page: Page, portal: dict[str, Any], sales: Staff
) -> None:
    customer = Customer(portal["url"], wait_for_wallet=False)

    def in_crm() -> bool:
        items = sales.http.get("/api/v1/crm/customers", params={"q": customer.email}).json()
        return bool(items["items"])

    eventually(in_crm, what="the customer in the CRM")

    sign_in(page, sales.email, "Tổng quan vận hành")
    page.goto("/staff/crm?kind=customer")
    search = page.get_by_role("textbox", name="Tìm kiếm")
    search.fill(customer.email)
    search.press("Enter")
    row = page.get_by_test_id(f"crm-row-{customer.account_id}")
    expect(row).to_contain_text("Khách hàng")
    expect(row).to_contain_text("Thành viên")
    row.get_by_role("link").click()

    level = page.get_by_test_id("crm-level")
    expect(level.get_by_test_id("crm-why")).to_contain_text(
        "Hạng Thành viên vì tổng tiền tích luỹ là 0 ₫"
    )
    expect(level.get_by_test_id("crm-why")).to_contain_text("Cần thêm 5.000.000 ₫ để lên hạng Bạc")
    expect(page.get_by_text("Chưa có hoạt động chăm sóc nào.")).to_be_visible()
    axe(page, "crm-customer")

    # Client-side checks before anything is sent.
    record = page.get_by_role("button", name="Ghi nhận", exact=True)
    record.click()
    expect(page.get_by_text("Vui lòng chọn loại chăm sóc")).to_be_visible()
    choose(page, "Loại chăm sóc", "Cộng tiền tích luỹ")
    record.click()
    expect(page.get_by_text("Vui lòng nhập giá trị lớn hơn 0")).to_be_visible()
    page.get_by_role("textbox", name="Số tiền").fill("6000000")
    page.get_by_role("textbox", name="Ghi chú").fill("Chuyển lịch sử mua hàng cũ")
    record.click()

    expect(page.get_by_text("Đã ghi nhận: Cộng tiền tích luỹ")).to_be_visible()
    expect(level.get_by_test_id("crm-accumulated")).to_have_text("6.000.000 ₫")
    expect(level.get_by_test_id("crm-why")).to_contain_text(
        "Hạng Bạc vì tổng tiền tích luỹ là 6.000.000 ₫"
    )
    expect(level.get_by_test_id("crm-because")).to_contain_text("Nhân viên ghi nhận")
    expect(level.get_by_test_id("crm-because")).to_contain_text("+6.000.000 ₫")
    history = page.get_by_test_id("crm-history")
    expect(history).to_contain_text("Cộng tiền tích luỹ")
    expect(history).to_contain_text("Chuyển lịch sử mua hàng cũ")
    # The customer's own loyalty follows (the API they read).
    mine = customer.http.get("/api/v1/loyalty").json()
    assert (mine["level"], mine["accumulated"]) == ("silver", 6_000_000)

    # A deduction beyond what is there is refused with its reason next to the field.
    choose(page, "Loại chăm sóc", "Trừ điểm")
    page.get_by_role("textbox", name="Số điểm").fill("10")
    record.click()
    expect(page.get_by_text("Khách hàng không đủ điểm để trừ")).to_be_visible()
    assert customer.http.get("/api/v1/loyalty").json()["points"] == 0
    axe(page, "crm-customer-after")
    shoot(page, "staff-crm-customer")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    no_horizontal_scroll(page)
