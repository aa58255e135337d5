"""A money action whose answer is lost: the portal retries it with the same Idempotency-Key
and the wallet is charged once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from portal_tests.browser import fund, wallet_balance
from portal_tests.e2e import Customer, eventually

pytestmark = pytest.mark.e2e

SUPPORT_1 = 100_000  # Hosting Support, one month
# The client retries a lost answer by itself (three attempts); all of them are lost here, so
# the person retries from the UI too, and that fourth attempt gets its answer.
LOST = 3


@pytest.mark.timeout(900)
def test_a_lost_answer_is_retried_with_the_same_key_and_charged_once(
    open_page: Callable[..., Page], customer: Customer, platform: dict[str, Any]
) -> None:
    fund(customer, platform["url"], 1_000_000)
    r = customer.http.post("/api/v1/orders", json={"plan_id": "host-sup", "months": 1})
    assert r.status_code == 201, r.text
    invoice = r.json()
    page = open_page(customer, f"/invoices/{invoice['id']}")
    expect(page.get_by_test_id("amount-due")).to_have_text("100.000 ₫")

    keys: list[str | None] = []

    def lose_the_answer(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) > LOST:
            route.continue_()
            return
        route.fetch()  # the request reaches the server and is carried out ...
        route.abort("connectionreset")  # ... and its answer never reaches the page

    page.route("**/api/v1/invoices/*/pay", lose_the_answer)
    pay = page.get_by_role("button", name="Thanh toán", exact=True)
    pay.click()
    lost = page.get_by_role("alert").filter(has_text="Không kết nối được máy chủ")
    expect(lost).to_be_visible()
    assert len(keys) == LOST
    pay.click()
    expect(page.get_by_text("Đã thanh toán", exact=True).first).to_be_visible()

    assert len(keys) == LOST + 1
    assert keys[0] and len(set(keys)) == 1, keys  # one action, one key, however often sent

    def settled() -> Any:
        now = customer.http.get(f"/api/v1/invoices/{invoice['id']}").json()
        return now if now["status"] == "paid" else None

    paid = eventually(settled, what="the invoice paid")
    assert paid["paid"] == SUPPORT_1, paid
    eventually(lambda: wallet_balance(customer) == 1_000_000 - SUPPORT_1, what="one charge")
    debits = [
        row
        for row in customer.http.get("/api/v1/wallet/transactions").json()["items"]
        if row["kind"] == "debit"
    ]
    assert [d["amount"] for d in debits] == [SUPPORT_1], debits
