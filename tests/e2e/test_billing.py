"""Billing end to end: buy, pay (wallet, provider, partially, by claim), renew, upgrade,
expiry notices, documents, and bad input. Real Kafka, FerretDB and every service."""

from __future__ import annotations

import base64
import calendar
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from portal_tests.e2e import Customer, admin_client, eventually, login, paid, problem, webhook

pytestmark = pytest.mark.e2e

PRO_12 = 2_160_000  # 200,000 a month, 12 months, 10% off
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def fund(customer: Customer, base_url: str, amount: int) -> None:
    before = balance(customer)
    reference = customer.top_up(amount).json()["payment"]["reference"]
    assert webhook(base_url, paid(reference, amount)).status_code == 200
    eventually(lambda: balance(customer) == before + amount, what="the top-up")


def balance(customer: Customer) -> int:
    return int(customer.http.get("/api/v1/wallet").json()["balance"])


def order(customer: Customer, plan_id: str = "host-pro", months: int = 12) -> dict[str, Any]:
    r = customer.http.post("/api/v1/orders", json={"plan_id": plan_id, "months": months})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def pay(customer: Customer, invoice_id: str, **body: Any) -> httpx.Response:
    return customer.http.post(
        f"/api/v1/invoices/{invoice_id}/pay", json={"method": "wallet", **body}
    )


def post_keyed(customer: Customer, path: str, body: dict[str, Any], key: str) -> httpx.Response:
    """A keyed write, sent again on a 503 as a client would (a loaded machine can make the
    gateway give up first): the key makes the copies one request."""
    for _ in range(4):
        r = customer.http.post(path, json=body, headers={"Idempotency-Key": key})
        if r.status_code != 503:
            break
        time.sleep(2)
    return r


@pytest.fixture
def staff(platform) -> httpx.Client:
    return admin_client(platform["url"])


def test_buy_professional_for_12_months_paid_from_the_wallet(platform, staff):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 3_000_000)
    plans = c.http.get("/api/v1/plans", params={"category": "hosting"}).json()["items"]
    pro = next(p for p in plans if p["plan_id"] == "host-pro")
    assert [p["tier"] for p in plans] == ["support", "professional", "premium"]
    assert {p["months"]: p["price"] for p in pro["periods"]}[12] == PRO_12

    invoice = order(c)
    assert invoice["status"] == "unpaid" and invoice["total"] == PRO_12
    assert invoice["proforma_number"].startswith("PF-") and invoice["invoice_number"] is None
    key = {"Idempotency-Key": f"pay-{uuid.uuid4().hex}"}
    r = c.http.post(f"/api/v1/invoices/{invoice['id']}/pay", json={"method": "wallet"}, headers=key)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "paid" and r.json()["invoice_number"].startswith("INV-")
    # The same request again: the first answer, no second debit.
    again = c.http.post(
        f"/api/v1/invoices/{invoice['id']}/pay", json={"method": "wallet"}, headers=key
    )
    assert again.status_code == 200 and again.json()["invoice_number"] == r.json()["invoice_number"]
    assert balance(c) == 3_000_000 - PRO_12
    # The account's own orders chart: 12 months of the business's calendar, this one last.
    month = f"{datetime.now(ZoneInfo('Asia/Ho_Chi_Minh')):%Y-%m}"
    chart = eventually(
        lambda: (b := c.dashboard()).get("orders_chart", [{}])[-1].get("spent") and b,
        what="the orders chart",
    )["orders_chart"]
    assert len(chart) == 12 and chart[-1] == {"month": month, "orders": 1, "spent": PRO_12}

    contracts = eventually(lambda: c.http.get("/api/v1/contracts").json()["items"], what="contract")
    (contract,) = contracts
    today = date.today()
    assert contract["contract_number"].startswith("HD-")
    assert contract["starts_on"] == today.isoformat()
    assert date.fromisoformat(contract["ends_on"]) > today + timedelta(days=360)
    assert contract["amount"] == PRO_12 and contract["tier"] == "professional"
    invoice_pdf = c.http.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert invoice_pdf.status_code == 200 and invoice_pdf.content.startswith(b"%PDF")
    number = r.json()["invoice_number"]
    assert f'filename="{number}.pdf"' in invoice_pdf.headers["content-disposition"]
    purchases = c.http.get("/api/v1/purchases").json()["items"]
    assert [p["id"] for p in purchases] == [invoice["id"]]

    pdf = c.http.get(f"/api/v1/contracts/{contract['id']}/documents/confirmation.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment")
    assert pdf.headers["x-content-type-options"] == "nosniff"
    terms = c.http.get(f"/api/v1/contracts/{contract['id']}/documents/terms.pdf")
    assert terms.content.startswith(b"%PDF") and len(terms.content) > 1000
    page = c.http.get(f"/api/v1/contracts/{contract['id']}/documents/confirmation.html")
    assert contract["contract_number"] in page.text and page.headers["content-type"].startswith(
        "text/html"
    )

    board = eventually(
        lambda: (b := c.dashboard()).get("services", {}).get("active") == 1 and b,
        what="the dashboard's services",
    )
    assert board["services"]["items"][0]["contract_number"] == contract["contract_number"]
    stats = eventually(
        lambda: (
            (s := staff.get("/api/v1/staff/dashboard").json()["billing"])[
                "active_by_category_and_tier"
            ]
            .get("hosting", {})
            .get("professional")
            and s
        ),
        what="staff statistics",
    )
    assert stats["orders_per_month"][-1]["orders"] >= 1
    assert len(stats["orders_per_month"]) == 12


def test_upgrade_on_day_100_charges_the_previewed_amount(platform, clock):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 5_000_000)
    assert pay(c, order(c)["id"]).json()["status"] == "paid"
    sub = eventually(lambda: c.http.get("/api/v1/subscriptions").json()["items"])[0]
    clock(timedelta(days=100))
    preview = c.http.get(
        f"/api/v1/subscriptions/{sub['id']}/upgrade-preview", params={"plan_id": "host-prem"}
    ).json()
    assert (
        preview["remaining_days"] == (date.fromisoformat(sub["ends_on"]) - date.today()).days - 100
    )
    assert preview["credit"] > 0 and preview["charge"] > 0
    before = balance(c)
    r = c.http.post(
        f"/api/v1/subscriptions/{sub['id']}/upgrade",
        json={"plan_id": "host-prem", "expected_charge": preview["charge"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "paid" and r.json()["total"] == preview["charge"]
    assert balance(c) == before - preview["charge"]
    after = c.http.get(f"/api/v1/subscriptions/{sub['id']}").json()
    assert after["tier"] == "premium" and after["ends_on"] == sub["ends_on"]
    # A downgrade is refused with a clear message and changes nothing.
    body = problem(
        c.http.post(f"/api/v1/subscriptions/{sub['id']}/upgrade", json={"plan_id": "host-sup"}),
        422,
        "downgrade_not_allowed",
    )
    assert "only be upgraded" in body["detail"]
    assert balance(c) == before - preview["charge"]


def test_upgrade_buying_12_months_invoices_the_difference_and_the_months_once(platform):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 10_000_000)
    assert pay(c, order(c)["id"]).json()["status"] == "paid"
    sub = eventually(lambda: c.http.get("/api/v1/subscriptions").json()["items"])[0]
    path = f"/api/v1/subscriptions/{sub['id']}"
    preview = c.http.get(
        f"{path}/upgrade-preview", params={"plan_id": "host-prem", "months": 12}
    ).json()
    # Both parts: the difference to the current end, and 12 months of premium (10% off).
    assert preview["months"] == 12 and preview["extension"] == 400_000 * 12 * 90 // 100
    assert preview["amount_due"] == preview["charge"] + preview["extension"]
    ends_on = date.fromisoformat(sub["ends_on"])
    assert preview["new_ends_on"] == ends_on.replace(year=ends_on.year + 1).isoformat()
    problem(
        c.http.get(f"{path}/upgrade-preview", params={"plan_id": "host-prem", "months": 5}),
        422,
        "period_not_allowed",
    )
    problem(
        c.http.get(f"{path}/upgrade-preview", params={"plan_id": "host-prem", "months": -1}), 400
    )
    before = balance(c)
    body = {"plan_id": "host-prem", "months": 12, "expected_charge": preview["amount_due"]}
    key = f"up-{uuid.uuid4()}"
    first = post_keyed(c, f"{path}/upgrade", body, key)
    assert first.status_code == 201, first.text
    again = post_keyed(c, f"{path}/upgrade", body, key)  # a retried request
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "paid"
    assert first.json()["total"] == preview["amount_due"]  # one invoice with both parts
    assert balance(c) == before - preview["amount_due"]  # charged once
    after = eventually(
        lambda: (s := c.http.get(path).json())["tier"] == "premium" and s, what="the upgrade"
    )
    assert after["ends_on"] == preview["new_ends_on"]


def test_renewing_a_retired_plan_with_the_payment_method_chosen_first(platform, staff):
    url = platform["url"]
    code = f"VPS-{uuid.uuid4().hex[:6].upper()}"
    terms = {"name": "VPS Basic", "category": code.lower(), "tier": "support"}
    periods = [{"months": 1}, {"months": 3}, {"months": 6}]
    r = staff.post(
        "/api/v1/plans", json={"code": code, **terms, "monthly_price": 100_000, "periods": periods}
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["plan_id"]
    c = Customer(url)
    fund(c, url, 400_000)
    assert pay(c, order(c, plan_id, 1)["id"]).json()["status"] == "paid"
    sub = eventually(lambda: c.http.get("/api/v1/subscriptions").json()["items"])[0]
    path = f"/api/v1/subscriptions/{sub['id']}"
    # Retired: not sold to new customers, but its subscribers keep renewing it.
    assert staff.post(f"/api/v1/plans/{plan_id}/retire").json()["status"] == "retired"
    problem(
        c.http.post("/api/v1/orders", json={"plan_id": plan_id, "months": 1}),
        422,
        "plan_not_available",
    )
    # In parts: 100,000 of 300,000 from the wallet now; a retried request pays nothing more.
    body = {"months": 3, "payment": {"method": "wallet", "amount": 100_000}}
    key = f"renew-{uuid.uuid4()}"
    first = post_keyed(c, f"{path}/renew", body, key)
    assert first.status_code == 201, first.text
    again = post_keyed(c, f"{path}/renew", body, key)
    assert again.json()["id"] == first.json()["id"]
    assert (again.json()["status"], again.json()["paid"]) == ("partially_paid", 100_000)
    assert balance(c) == 200_000
    # The rest by bank transfer with the VietQR; when it arrives, the plan goes on 3 months.
    r = c.http.post(f"/api/v1/invoices/{first.json()['id']}/pay", json={"method": "bank_transfer"})
    request = r.json()["payment_request"]
    assert request["amount"] == 200_000 and request["payment"]["qr_payload"].startswith("000201")
    assert webhook(url, paid(request["payment"]["reference"], 200_000)).status_code == 200
    renewed = eventually(
        lambda: (s := c.http.get(path).json())["ends_on"] != sub["ends_on"] and s, what="renewal"
    )
    assert renewed["plan_id"] == plan_id
    added = date.fromisoformat(renewed["ends_on"]) - date.fromisoformat(sub["ends_on"])
    assert 89 <= added.days <= 92  # three months
    # The wallet chosen but short (600,000 for 6 months, 200,000 held): the invoice stays
    # open to pay another way, and nothing left the wallet.
    short = problem(
        post_keyed(c, f"{path}/renew", {"months": 6, "payment": {"method": "wallet"}}, "r6"),
        422,
        "insufficient_balance",
    )
    kept = c.http.get(f"/api/v1/invoices/{short['invoice_id']}").json()
    assert (kept["status"], kept["total"]) == ("unpaid", 600_000)
    assert balance(c) == 200_000
    assert c.http.post(f"/api/v1/invoices/{kept['id']}/cancel").status_code == 200
    # Bank transfer chosen first: the answer carries the VietQR to pay the whole invoice.
    r = post_keyed(c, f"{path}/renew", {"months": 1, "payment": {"method": "bank_transfer"}}, "qr")
    assert r.status_code == 201, r.text
    assert r.json()["payment_request"]["payment"]["qr_payload"].startswith("000201")
    assert r.json()["status"] == "unpaid" and balance(c) == 200_000
    # Bad parts are refused and issue nothing.
    invoices = c.http.get("/api/v1/invoices").json()["total"]
    too_much = {"months": 1, "payment": {"method": "wallet", "amount": 100_001}}
    problem(c.http.post(f"{path}/renew", json=too_much), 422, "amount_exceeds_due")
    problem(c.http.post(f"{path}/renew", json={"months": 1, "payment": {"amount": 0}}), 400)
    problem(c.http.post(f"{path}/renew", json={"months": 1, "payment": {"method": "cash"}}), 400)
    assert c.http.get("/api/v1/invoices").json()["total"] == invoices


def test_partial_payment_then_continue_by_bank_transfer_with_over_payment(platform):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 1_500_000)
    invoice = order(c)
    r = pay(c, invoice["id"], amount=1_000_000)
    assert r.json()["status"] == "partially_paid" and r.json()["amount_due"] == PRO_12 - 1_000_000
    r = c.http.post(f"/api/v1/invoices/{invoice['id']}/pay", json={"method": "bank_transfer"})
    assert r.status_code == 200, r.text
    request = r.json()["payment_request"]
    assert request["amount"] == PRO_12 - 1_000_000
    assert request["payment"]["qr_payload"].startswith("000201")
    # The customer transfers 50,000 more than asked: it ends up in the wallet.
    sent = PRO_12 - 1_000_000 + 50_000
    assert webhook(url, paid(request["payment"]["reference"], sent)).status_code == 200
    done = eventually(
        lambda: (
            (i := c.http.get(f"/api/v1/invoices/{invoice['id']}").json())["status"] == "paid" and i
        ),
        what="the invoice paid by transfer",
    )
    assert done["paid"] == PRO_12
    assert [p["channel"] for p in done["payments"]] == ["wallet", "provider"]
    assert done["payments"][1]["excess_to_wallet"] == 50_000
    eventually(lambda: balance(c) == 1_500_000 - 1_000_000 + 50_000, what="the excess credited")


def test_partial_payment_then_stop_credits_the_wallet(platform):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 800_000)
    invoice = order(c)
    assert pay(c, invoice["id"], amount=500_000).json()["status"] == "partially_paid"
    assert balance(c) == 300_000
    r = c.http.post(f"/api/v1/invoices/{invoice['id']}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["refunded_to_wallet"] == 500_000
    eventually(lambda: balance(c) == 800_000, what="the refund of what was paid")
    problem(pay(c, invoice["id"]), 409, "invoice_not_payable")
    assert c.http.get("/api/v1/contracts").json()["items"] == []


def test_payment_claims_approved_rejected_and_overdue(platform, staff, clock):
    url = platform["url"]
    c = Customer(url)
    first, second = order(c), order(c, "host-sup", 1)
    proof = {"filename": "receipt.png", "content_base64": base64.b64encode(PNG).decode()}
    r = c.http.post(
        f"/api/v1/invoices/{first['id']}/payment-confirmation",
        json={
            "reference": "FT2611220001",
            "amount": PRO_12,
            "paid_on": "2026-11-22",
            "proof": proof,
        },
    )
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["status"] == "under_review" and claim["section"] == "documents_under_review"
    listed = c.http.get("/api/v1/payment-claims", params={"status": "under_review"}).json()
    assert [i["id"] for i in listed["items"]] == [claim["id"]]
    got = c.http.get(f"/api/v1/payment-claims/{claim['id']}/proof")
    assert got.content == PNG and got.headers["x-content-type-options"] == "nosniff"
    # A file whose bytes are not an image or PDF is refused and nothing is stored.
    fake = {"filename": "x.png", "content_base64": base64.b64encode(b"not an image").decode()}
    problem(
        c.http.post(
            f"/api/v1/invoices/{second['id']}/payment-confirmation",
            json={"reference": "FT-FAKE", "amount": 100_000, "proof": fake},
        ),
        415,
    )
    assert c.http.get(f"/api/v1/invoices/{second['id']}").json()["claims"] == []

    # Past the 24-hour review, the claim is overdue on the staff side.
    clock(timedelta(hours=25))
    overdue = staff.get("/api/v1/payment-claims", params={"overdue": "true", "limit": 100}).json()
    assert claim["id"] in [i["id"] for i in overdue["items"]]
    eventually(
        lambda: staff.get("/api/v1/staff/dashboard").json()["billing"]["payment_claims_overdue"],
        what="overdue claims on the staff dashboard",
    )
    clock(timedelta(0))
    problem(c.http.post(f"/api/v1/payment-claims/{claim['id']}/approve"), 403, "forbidden")
    r = staff.post(f"/api/v1/payment-claims/{claim['id']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    invoice = c.http.get(f"/api/v1/invoices/{first['id']}").json()
    assert invoice["status"] == "paid" and invoice["payments"][0]["channel"] == "claim"
    eventually(lambda: c.http.get("/api/v1/contracts").json()["items"], what="the contract")

    r = c.http.post(
        f"/api/v1/invoices/{second['id']}/payment-confirmation",
        json={"reference": "FT2611220002", "amount": 100_000},
    )
    rejected = staff.post(
        f"/api/v1/payment-claims/{r.json()['id']}/reject",
        json={"reason": "no transfer with this reference arrived"},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["section"] == "rejected_payments"
    mine = c.http.get("/api/v1/payment-claims", params={"status": "rejected"}).json()["items"]
    assert mine[0]["rejection_reason"] == "no transfer with this reference arrived"
    assert c.http.get(f"/api/v1/invoices/{second['id']}").json()["status"] == "unpaid"
    board = eventually(
        lambda: (b := c.dashboard())["payment_claims"]["rejected"] and b, what="rejected on board"
    )
    assert board["payment_claims"]["rejected"][0]["reason"].startswith("no transfer")


def test_two_invoices_paid_at_once_from_a_balance_covering_one(platform):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, PRO_12 + 40_000)
    a, b = order(c), order(c)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda i: pay(c, i["id"]), [a, b]))
    assert sorted(r.status_code for r in answers) == [200, 422], [r.text for r in answers]
    refused = next(r for r in answers if r.status_code == 422)
    assert refused.json()["code"] == "insufficient_balance"
    statuses = sorted(c.http.get(f"/api/v1/invoices/{i['id']}").json()["status"] for i in (a, b))
    assert statuses == ["paid", "unpaid"]
    assert balance(c) == 40_000


def test_renewal_extends_from_the_end_date_and_refuses_without_funds(platform):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 400_000)
    assert pay(c, order(c, "host-sup", 1)["id"]).json()["status"] == "paid"
    sub = eventually(lambda: c.http.get("/api/v1/subscriptions").json()["items"])[0]
    r = c.http.post(f"/api/v1/subscriptions/{sub['id']}/renew", json={"months": 3})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "paid" and r.json()["total"] == 300_000
    renewed = c.http.get(f"/api/v1/subscriptions/{sub['id']}").json()
    end = date.fromisoformat(sub["ends_on"])
    expected = date(end.year + (end.month + 2) // 12, (end.month + 2) % 12 + 1, end.day)
    assert renewed["ends_on"] == expected.isoformat()
    # 0 left in the wallet: a renewal paid from it is refused and nothing stays unpaid.
    body = problem(
        c.http.post(f"/api/v1/subscriptions/{sub['id']}/renew", json={"months": 1}),
        422,
        "insufficient_balance",
    )
    assert "balance" in body["detail"]
    unpaid = c.http.get("/api/v1/invoices", params={"status": "unpaid"}).json()["items"]
    assert unpaid == []
    assert c.http.get(f"/api/v1/subscriptions/{sub['id']}").json()["ends_on"] == renewed["ends_on"]


def test_expiry_notice_at_15_days_for_owner_and_staff_users(platform, clock):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 100_000)
    assert pay(c, order(c, "host-sup", 1)["id"]).json()["status"] == "paid"
    sub = eventually(lambda: c.http.get("/api/v1/subscriptions").json()["items"])[0]
    email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    c.http.post("/api/v1/account/users", json={"email": email, "role": "staff"})
    # the token is mailed to the invited address, never returned to the inviter
    token = platform["identity_db"]["outgoing_mail"].find_one({"to": email})["token"]
    accepted = httpx.post(
        f"{url}/api/v1/auth/invitations/accept",
        json={"token": token, "name": "Staff", "password": "staff password 1"},
    )
    assert accepted.status_code == 201, accepted.text
    member = httpx.Client(
        base_url=url,
        headers={
            "Authorization": f"Bearer {login(url, email, 'staff password 1')['access_token']}"
        },
    )
    assert c.dashboard()["subscription_notices"] == []
    ends_on = date.fromisoformat(sub["ends_on"])
    clock(timedelta(days=(ends_on - date.today()).days - 15))

    def notice(client: httpx.Client) -> Any:
        notices = client.get("/api/v1/dashboard").json().get("subscription_notices", [])
        return notices and notices[0]

    seen = eventually(lambda: notice(c.http), what="the expiry notice")
    assert seen["days_left"] == 15 and seen["kind"] == "expiring"
    assert seen["contract_number"] == sub["contract_number"]
    assert notice(member)["days_left"] == 15  # the account's staff users see it too
    board = member.get("/api/v1/dashboard").json()
    assert "open_invoices" not in board and "services" not in board  # but not billing
    # Nor the subscriptions, contracts, their amounts and documents (issue 18).
    for path in (
        "/api/v1/subscriptions",
        f"/api/v1/subscriptions/{sub['id']}",
        f"/api/v1/subscriptions/{sub['id']}/upgrade-preview?plan_id=host-pro",
        "/api/v1/contracts",
        f"/api/v1/contracts/{sub['id']}",
        f"/api/v1/contracts/{sub['id']}/documents/terms.pdf",
        "/api/v1/invoices",
        "/api/v1/purchases",
    ):
        problem(member.get(path), 403, "forbidden")
    assert "services" in c.dashboard()  # the owner still has them
    clock(timedelta(days=(ends_on - date.today()).days))
    expired = eventually(
        lambda: c.http.get(f"/api/v1/subscriptions/{sub['id']}").json()["status"] == "expired",
        what="the expiry",
    )
    assert expired
    assert eventually(lambda: notice(c.http)["kind"] == "expired", what="the expired notice")


def test_auto_renewal_renews_with_the_notice_and_pays_from_the_balance(platform, clock):
    url = platform["url"]
    c = Customer(url)
    other = Customer(url)
    fund(c, url, 250_000)
    assert c.http.put("/api/v1/billing/settings", json={"auto_pay": True}).status_code == 200
    assert order(c, "host-sup", 1)["status"] == "paid"  # 100,000 from the balance
    sub = eventually(lambda: c.http.get("/api/v1/subscriptions").json()["items"])[0]
    assert sub["auto_renew"] is False
    path = f"/api/v1/subscriptions/{sub['id']}/auto-renew"

    problem(c.http.put(path, json={"enabled": True, "months": 5}), 422, "period_not_allowed")
    problem(c.http.put(path, json={"enabled": "yes"}), 400)
    problem(other.http.put(path, json={"enabled": True}), 404)
    assert c.http.get(f"/api/v1/subscriptions/{sub['id']}").json()["auto_renew"] is False
    r = c.http.put(path, json={"enabled": True})
    assert r.status_code == 200, r.text
    assert (r.json()["auto_renew"], r.json()["auto_renew_months"]) == (True, 1)

    ends_on = date.fromisoformat(sub["ends_on"])
    clock(timedelta(days=(ends_on - date.today()).days - 15))
    renewed = eventually(
        lambda: (
            (s := c.http.get(f"/api/v1/subscriptions/{sub['id']}").json())["ends_on"]
            > sub["ends_on"]
            and s
        ),
        what="the automatic renewal",
    )
    assert renewed["status"] == "active" and renewed["auto_renew"] is True
    invoices = c.http.get("/api/v1/invoices", params={"kind": "renewal"}).json()["items"]
    assert [(i["status"], i["total"]) for i in invoices] == [("paid", 100_000)]
    assert balance(c) == 50_000
    time.sleep(1.5)  # a few more scheduler sweeps: still one renewal for this term
    assert c.http.get("/api/v1/invoices", params={"kind": "renewal"}).json()["total"] == 1


def test_a_ticket_can_name_its_own_contract_but_not_an_unknown_code(platform):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 100_000)
    assert pay(c, order(c, "host-sup", 1)["id"]).json()["status"] == "paid"
    contract = eventually(lambda: c.http.get("/api/v1/contracts").json()["items"])[0]
    ticket = {"department": "billing", "title": "Invoice question", "content": "Please check"}
    r = c.http.post("/api/v1/tickets", json={**ticket, "related_code": contract["contract_number"]})
    assert r.status_code == 201, r.text
    assert r.json()["related_code"] == contract["contract_number"]
    other = Customer(url, wait_for_wallet=False)
    problem(
        other.http.post(
            "/api/v1/tickets", json={**ticket, "related_code": contract["contract_number"]}
        ),
        422,
        "unknown_related_code",
    )
    problem(
        c.http.post("/api/v1/tickets", json={**ticket, "related_code": "HD-2026-999999"}),
        422,
        "unknown_related_code",
    )
    assert other.http.get("/api/v1/tickets").json()["total"] == 0


def test_bad_input_is_refused_and_nothing_is_stored(platform):
    url = platform["url"]
    c, other = Customer(url), Customer(url)
    problem(
        c.http.post("/api/v1/orders", json={"plan_id": "nope", "months": 12}), 404, "plan_not_found"
    )
    body = problem(
        c.http.post("/api/v1/orders", json={"plan_id": "host-pro", "months": 5}),
        422,
        "period_not_allowed",
    )
    assert body["allowed"] == [1, 3, 6, 12, 24]
    problem(c.http.post("/api/v1/orders", json={"plan_id": "host-pro", "months": -1}), 400)
    problem(c.http.post("/api/v1/orders", json={"plan_id": "host-pro", "months": "12"}), 400)
    problem(c.http.post("/api/v1/orders", json={"plan_id": "host-pro", "months": 12, "x": 1}), 400)
    problem(c.http.post("/api/v1/orders", content=b"{not json"), 400)
    assert c.http.get("/api/v1/invoices").json()["total"] == 0

    theirs = order(other)
    problem(pay(c, theirs["id"]), 404, "invoice_not_found")
    problem(c.http.get(f"/api/v1/invoices/{theirs['id']}"), 404, "invoice_not_found")
    problem(c.http.post(f"/api/v1/invoices/{theirs['id']}/cancel"), 404, "invoice_not_found")
    assert other.http.get(f"/api/v1/invoices/{theirs['id']}").json()["status"] == "unpaid"
    problem(pay(other, theirs["id"], amount=-5), 400)
    problem(pay(other, theirs["id"], amount=PRO_12 + 1), 422, "amount_exceeds_due")
    problem(pay(other, theirs["id"]), 422, "insufficient_balance")
    assert other.http.get(f"/api/v1/invoices/{theirs['id']}").json()["payments"] == []
    problem(c.http.post("/api/v1/plans", json={"code": "X1", "name": "x"}), 400)
    problem(
        c.http.post(
            "/api/v1/plans",
            json={
                "code": "HACK",
                "name": "Free",
                "category": "hosting",
                "tier": "premium",
                "monthly_price": 1,
                "periods": [{"months": 1}],
            },
        ),
        403,
        "forbidden",
    )


def test_auto_pay_and_a_staff_refund(platform, staff):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 500_000)
    assert c.http.get("/api/v1/billing/settings").json() == {"auto_pay": False, "sector": None}
    r = c.http.put("/api/v1/billing/settings", json={"auto_pay": True})
    assert r.status_code == 200 and r.json() == {"auto_pay": True, "sector": None}
    invoice = order(c, "host-sup", 3)  # paid from the balance as soon as it is issued
    assert invoice["status"] == "paid" and invoice["payments"][0]["channel"] == "wallet"
    assert balance(c) == 200_000
    problem(
        c.http.post(
            f"/api/v1/invoices/{invoice['id']}/refund", json={"amount": 1, "reason": "x y"}
        ),
        403,
    )
    r = staff.post(
        f"/api/v1/invoices/{invoice['id']}/refund",
        json={"amount": 100_000, "reason": "service outage credit"},
    )
    assert r.status_code == 200 and r.json()["refunded"] == 100_000, r.text
    eventually(lambda: balance(c) == 300_000, what="the refund in the wallet")
    problem(
        staff.post(
            f"/api/v1/invoices/{invoice['id']}/refund",
            json={"amount": 200_001, "reason": "too much"},
        ),
        422,
        "refund_too_large",
    )


def test_service_tokens_are_internal_and_need_the_client_secret(platform):
    identity = platform["identity_url"]
    r = httpx.post(
        f"{identity}/v1/auth/service-token",
        json={"client_id": "billing", "client_secret": "billing-dev-secret"},
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    wallet = httpx.get(
        f"{platform['wallet_url']}/v1/wallets/no-such-account",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert wallet.status_code == 200 and wallet.json()["balance"] == 0
    wrong = httpx.post(
        f"{identity}/v1/auth/service-token", json={"client_id": "billing", "client_secret": "nope"}
    )
    problem(wrong, 401, "invalid_client")
    unknown = httpx.post(
        f"{identity}/v1/auth/service-token", json={"client_id": "crm", "client_secret": "x"}
    )
    problem(unknown, 401, "invalid_client")
    # The gateway never routes it.
    assert httpx.post(f"{platform['url']}/api/v1/auth/service-token", json={}).status_code in (
        404,
        405,
    )
    # A customer cannot move money through the internal wallet routes.
    c = Customer(platform["url"])
    problem(
        c.http.post(
            f"{platform['wallet_url']}/v1/wallets/{c.account_id}/credits",
            json={"amount": 1, "currency": "VND", "reason": "adjustment", "reference": "x"},
            headers={"Idempotency-Key": "k"},
        ),
        403,
    )


def test_billing_admins_manage_the_catalogue(platform, staff):
    url = platform["url"]
    code = f"VPS-{uuid.uuid4().hex[:6].upper()}"
    r = staff.post(
        "/api/v1/plans",
        json={
            "code": code,
            "name": "VPS Professional",
            "category": "vps",
            "tier": "professional",
            "monthly_price": 300_000,
            "periods": [{"months": 1}, {"months": 12, "discount_percent": 20}],
            "description": "2 vCPU, 4 GB",
        },
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert {p["months"]: p["price"] for p in plan["periods"]} == {1: 300_000, 12: 2_880_000}
    duplicate = {
        "code": code,
        "name": "Again",
        "category": "vps",
        "tier": "premium",
        "monthly_price": 1,
        "periods": [{"months": 1}],
    }
    problem(staff.post("/api/v1/plans", json=duplicate), 409, "plan_code_taken")
    c = Customer(url)
    listed = c.http.get("/api/v1/plans", params={"category": "vps"}).json()["items"]
    assert plan["plan_id"] in [p["plan_id"] for p in listed]
    r = staff.put(
        f"/api/v1/plans/{plan['plan_id']}",
        json={"name": "VPS Professional", "monthly_price": 350_000, "periods": [{"months": 1}]},
    )
    assert r.status_code == 200 and r.json()["monthly_price"] == 350_000, r.text
    body = problem(
        c.http.post("/api/v1/orders", json={"plan_id": plan["plan_id"], "months": 12}),
        422,
        "period_not_allowed",
    )
    assert body["allowed"] == [1]
    assert staff.post(f"/api/v1/plans/{plan['plan_id']}/retire").json()["status"] == "retired"
    listed = c.http.get("/api/v1/plans", params={"category": "vps"}).json()["items"]
    assert plan["plan_id"] not in [p["plan_id"] for p in listed]
    problem(
        c.http.post("/api/v1/orders", json={"plan_id": plan["plan_id"], "months": 1}),
        422,
        "plan_not_available",
    )
    problem(c.http.post(f"/api/v1/plans/{plan['plan_id']}/retire"), 403, "forbidden")


def test_the_price_list_is_public_and_changing_it_is_not(platform):
    url = platform["url"]
    listed = httpx.get(f"{url}/api/v1/plans", params={"category": "hosting"}, timeout=20)
    assert listed.status_code == 200, listed.text
    assert "host-pro" in [p["plan_id"] for p in listed.json()["items"]]
    one = httpx.get(f"{url}/api/v1/plans/host-pro", timeout=20)
    assert one.status_code == 200 and one.json()["periods"], one.text
    retired = httpx.get(f"{url}/api/v1/plans", params={"include_retired": "true"}, timeout=20)
    assert all(p["status"] == "active" for p in retired.json()["items"])  # admins only
    problem(httpx.post(f"{url}/api/v1/plans", json={}, timeout=20), 401)
    problem(httpx.post(f"{url}/api/v1/plans/host-pro/retire", timeout=20), 401)
    forged = {"Authorization": "Bearer not-a-token"}
    problem(httpx.get(f"{url}/api/v1/plans", headers=forged, timeout=20), 401)


def test_a_trial_is_free_once_per_plan_and_renewing_it_starts_the_paid_term(platform):
    url = platform["url"]
    c = Customer(url)
    sw = c.http.get("/api/v1/plans/sw-pro").json()
    assert sw["trial_days"] == 14
    problem(
        c.http.post("/api/v1/orders", json={"plan_id": "host-pro", "trial": True}),
        422,
        "trial_not_offered",
    )
    problem(
        c.http.post("/api/v1/orders", json={"plan_id": "sw-pro", "trial": True, "months": 1}),
        422,
        "months_not_for_trial",
    )
    problem(c.http.post("/api/v1/orders", json={"plan_id": "sw-pro"}), 422, "months_required")

    # Nothing to pay and no payment asked for: the wallet is empty.
    key = f"trial-{uuid.uuid4().hex}"
    r = post_keyed(c, "/api/v1/orders", {"plan_id": "sw-pro", "trial": True}, key)
    assert r.status_code == 201, r.text
    assert (r.json()["total"], r.json()["status"]) == (0, "paid")
    again = post_keyed(c, "/api/v1/orders", {"plan_id": "sw-pro", "trial": True}, key)
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"], again.text
    sub = eventually(lambda: c.http.get("/api/v1/subscriptions").json()["items"], what="trial")[0]
    today = date.today()  # billing's day of the payment (as the contract tests above)
    assert sub["on_trial"] and sub["status"] == "active" and sub["amount"] == 0
    assert sub["ends_on"] == (today + timedelta(days=14)).isoformat()
    # Once per account and plan, even after the trial.
    body = problem(
        c.http.post("/api/v1/orders", json={"plan_id": "sw-pro", "trial": True}),
        409,
        "trial_already_used",
    )
    assert body["plan_id"] == "sw-pro"
    problem(
        c.http.get(
            f"/api/v1/subscriptions/{sub['id']}/upgrade-preview", params={"plan_id": "sw-prem"}
        ),
        409,
        "subscription_on_trial",
    )

    # Renewing starts the paid term today, not at the trial's end.
    fund(c, url, 250_000)
    r = c.http.post(f"/api/v1/subscriptions/{sub['id']}/renew", json={"months": 1})
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["total"]) == ("paid", 250_000)
    renewed = c.http.get(f"/api/v1/subscriptions/{sub['id']}").json()
    year, month = today.year + today.month // 12, today.month % 12 + 1
    month_later = date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
    assert not renewed["on_trial"] and renewed["ends_on"] == month_later.isoformat()


def test_the_account_sector_and_the_plans_suggested_for_it(platform, staff):
    c = Customer(platform["url"])
    assert c.http.get("/api/v1/billing/settings").json()["sector"] is None
    problem(c.http.put("/api/v1/billing/settings", json={"sector": "shoes"}), 400)
    r = c.http.put("/api/v1/billing/settings", json={"sector": "food_beverage"})
    assert r.status_code == 200 and r.json() == {"auto_pay": False, "sector": "food_beverage"}
    assert c.http.get("/api/v1/billing/settings").json()["sector"] == "food_beverage"
    problem(c.http.get("/api/v1/plans", params={"sector": "shoes"}), 400)
    suggested = c.http.get("/api/v1/plans", params={"sector": "food_beverage"}).json()["items"]
    ids = {p["plan_id"] for p in suggested}
    assert {"sw-sup", "sw-pro", "sw-prem"} <= ids and "host-pro" not in ids
    assert all("food_beverage" in p["sectors"] for p in suggested)

    # Billing admins say which sectors a plan suits; a sector not on the list is refused.
    code = f"POS-{uuid.uuid4().hex[:6].upper()}"
    plan = {
        "code": code,
        "name": "Cafe POS",
        "category": "software",
        "tier": "support",
        "monthly_price": 90_000,
        "periods": [{"months": 1}],
        "sectors": ["food_beverage"],
    }
    problem(staff.post("/api/v1/plans", json={**plan, "sectors": ["shoes"]}), 400)
    r = staff.post("/api/v1/plans", json=plan)
    assert r.status_code == 201 and r.json()["sectors"] == ["food_beverage"], r.text
    suggested = c.http.get("/api/v1/plans", params={"sector": "food_beverage"}).json()["items"]
    assert r.json()["plan_id"] in {p["plan_id"] for p in suggested}
    retail = c.http.get("/api/v1/plans", params={"sector": "retail"}).json()["items"]
    assert r.json()["plan_id"] not in {p["plan_id"] for p in retail}


def test_the_order_list_shows_each_order_with_its_service_setup(platform):
    url = platform["url"]
    c = Customer(url)
    fund(c, url, 100_000)
    paid_order = order(c, "host-sup", 1)
    assert pay(c, paid_order["id"]).json()["status"] == "paid"
    open_order = order(c, "host-pro", 12)  # not paid: its service waits for the payment
    trial = post_keyed(c, "/api/v1/orders", {"plan_id": "sw-sup", "trial": True}, uuid.uuid4().hex)
    assert trial.status_code == 201, trial.text
    stopped = order(c, "host-prem", 1)
    assert c.http.post(f"/api/v1/invoices/{stopped['id']}/cancel").status_code in (200, 201)

    page = c.http.get("/api/v1/orders", params={"limit": 10}).json()
    assert page["total"] == 4
    rows = {row["invoice_id"]: row for row in page["items"]}
    assert [row["invoice_id"] for row in page["items"]][-1] == paid_order["id"]  # newest first
    assert rows[paid_order["id"]]["provisioning"] == "done"
    assert rows[paid_order["id"]]["order_id"] == paid_order["order_id"]
    assert rows[paid_order["id"]]["content"].startswith("Hosting Support, 1 month")
    assert rows[open_order["id"]]["provisioning"] == "awaiting_payment"
    assert rows[trial.json()["id"]]["provisioning"] == "done"
    assert "trial" in rows[trial.json()["id"]]["content"]
    assert rows[stopped["id"]]["provisioning"] == "cancelled"
    assert all(row["placed_at"] for row in page["items"])
    # Another account sees none of them.
    assert Customer(url).http.get("/api/v1/orders").json()["total"] == 0
