"""Notification triggers end to end, read from the SMTP catcher through the whole platform:
the expiry notices at 15, 7 and 1 days and on the expiry day (each once per subscription and
term), a new ticket to its department's staff, the staff reply to the customer (mail and
bell), the customer's reply to the assignee, and an SLA breach to the department."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from portal_tests.e2e import Customer, admin_client, eventually, paid, staff_client, webhook
from portal_tests.mailcatcher import CaughtMail

pytestmark = pytest.mark.e2e


def mails(platform: dict[str, Any], to: str, subject: str) -> list[CaughtMail]:
    return [m for m in platform["mail"].messages(to=to) if subject in m.subject]


def mailed(platform: dict[str, Any], to: str, subject: str, what: str) -> CaughtMail:
    found = eventually(lambda: mails(platform, to, subject), timeout=120, what=what)
    return found[0]  # type: ignore[no-any-return]


def staff_member(url: str, role: str, department: str) -> tuple[httpx.Client, dict[str, Any]]:
    client = staff_client(url, role, department)
    return client, client.get("/api/v1/me").json()


def open_ticket(customer: Customer, title: str, priority: str, content: str) -> dict[str, Any]:
    r = customer.http.post(
        "/api/v1/tickets",
        json={
            "department": "technical",
            "title": title,
            "request_type": "incident",
            "priority": priority,
            "content": content,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def bell(client: httpx.Client, template: str) -> list[dict[str, Any]]:
    items = client.get("/api/v1/notifications").json()["items"]
    return [i for i in items if i["template"] == template]


def test_each_expiry_notice_is_mailed_once_per_subscription_and_term(platform, clock):
    url = platform["url"]
    c = Customer(url)
    reference = c.top_up(100_000).json()["payment"]["reference"]
    assert webhook(url, paid(reference, 100_000)).status_code == 200
    eventually(lambda: c.http.get("/api/v1/wallet").json()["balance"] == 100_000, what="top-up")
    invoice = c.http.post("/api/v1/orders", json={"plan_id": "host-sup", "months": 1})
    assert invoice.status_code == 201, invoice.text
    key = {"Idempotency-Key": str(uuid.uuid4())}
    pay = f"/api/v1/invoices/{invoice.json()['id']}/pay"
    for _ in range(3):  # a loaded machine may time the first try out; the key makes it one
        r = c.http.post(pay, json={"method": "wallet"}, headers=key)
        if r.status_code != 503:
            break
        time.sleep(5)
    assert r.json()["status"] == "paid", r.text
    sub = eventually(lambda: c.http.get("/api/v1/subscriptions").json()["items"])[0]
    contract = sub["contract_number"]
    ends_on = date.fromisoformat(sub["ends_on"])

    clock(timedelta(days=(ends_on - date.today()).days - 15))
    mail = mailed(platform, c.email, contract, "the expiry notice")
    assert mail.subject == f"Dịch vụ {contract} sẽ hết hạn sau 15 ngày"
    assert ends_on.strftime("%d/%m/%Y") in mail.body
    assert "/services?tab=mine" in mail.body  # the tab that lists it, with its renew button
    assert eventually(lambda: bell(c.http, "subscription_expiring"), what="the bell entry")
    # The scheduler keeps running days later in the same term: no second notice.
    clock(timedelta(days=(ends_on - date.today()).days - 13))
    board = eventually(lambda: c.dashboard()["subscription_notices"], what="the notice")
    assert board[0]["contract_number"] == contract
    time.sleep(3)  # several of billing's sweeps (0.5 s) and notification polls
    assert len(mails(platform, c.email, contract)) == 1
    assert len(bell(c.http, "subscription_expiring")) == 1

    # Then 7 days and 1 day before the end, and on the expiry day: each once.
    for days_left, subject in (
        (7, f"Dịch vụ {contract} sẽ hết hạn sau 7 ngày"),
        (1, f"Dịch vụ {contract} sẽ hết hạn sau 1 ngày"),
        (0, f"Dịch vụ {contract} đã hết hạn hôm nay"),
    ):
        clock(timedelta(days=(ends_on - date.today()).days - days_left))
        assert mailed(platform, c.email, subject, f"the notice at {days_left} days").subject
    time.sleep(3)  # more sweeps on the expiry day: nothing more
    assert len(mails(platform, c.email, contract)) == 4
    assert len(bell(c.http, "subscription_expiring")) == 3
    assert [e["link"] for e in bell(c.http, "subscription_expired")] == ["/services?tab=mine"]


def test_a_ticket_tells_its_department_the_reply_the_customer_and_back(platform):
    url = platform["url"]
    tech, tech_me = staff_member(url, "technician", "technical")
    _, sales_me = staff_member(url, "sales", "sales")
    customer = Customer(url, wait_for_wallet=False)
    ticket = open_ticket(
        customer, "Mail server refuses our domain", "high", "Every message bounces with 550."
    )
    number, tid = ticket["ticket_number"], ticket["id"]

    opened = mailed(platform, tech_me["email"], number, "the new-ticket mail")
    assert opened.subject == f"[{number}] Yêu cầu hỗ trợ mới: Mail server refuses our domain"
    assert "Every message bounces with 550." in opened.body
    assert f"/staff/tickets/{tid}" in opened.body
    assert eventually(lambda: bell(tech, "ticket_opened"), what="the staff bell entry")

    reply = tech.post(f"/api/v1/tickets/{tid}/replies", json={"content": "Fixed the SPF record."})
    assert reply.status_code == 201, reply.text
    answered = mailed(platform, customer.email, number, "the staff reply mail")
    assert answered.subject == f"[{number}] Phản hồi mới: Mail server refuses our domain"
    assert "Fixed the SPF record." in answered.body and f"/support/{tid}" in answered.body
    entry = eventually(lambda: bell(customer.http, "ticket_staff_reply"), what="the bell")[0]
    assert entry["title"] == answered.subject and not entry["read"]

    assigned = admin_client(url).post(
        f"/api/v1/tickets/{tid}/assignment",
        json={"department": "technical", "agent_id": tech_me["user_id"]},
    )
    assert assigned.status_code == 200, assigned.text
    back = customer.http.post(f"/api/v1/tickets/{tid}/replies", json={"content": "Works now!"})
    assert back.status_code == 201, back.text
    told = mailed(platform, tech_me["email"], "Khách hàng đã trả lời", "the customer reply mail")
    assert "Works now!" in told.body
    # Nobody of another department was told anything of this ticket.
    assert mails(platform, sales_me["email"], number) == []


def test_an_sla_breach_is_mailed_to_the_tickets_department(platform, clock):
    url = platform["url"]
    _, tech_me = staff_member(url, "technician", "technical")
    customer = Customer(url, wait_for_wallet=False)
    number = open_ticket(customer, "Whole site down", "urgent", "Nothing answers.")["ticket_number"]
    mailed(platform, tech_me["email"], number, "the new-ticket mail")
    clock(timedelta(hours=2))  # urgent: the first answer was due within 1 hour
    breach = mailed(platform, tech_me["email"], f"[{number}] Quá hạn SLA", "the SLA breach")
    assert breach.subject == f"[{number}] Quá hạn SLA: Whole site down"
    assert "phản hồi đầu tiên" in breach.body


def test_mail_held_back_by_the_rate_limit_comes_as_one_digest_after_the_hour(platform, clock):
    url = platform["url"]
    tech, _ = staff_member(url, "technician", "technical")
    customer = Customer(url, wait_for_wallet=False)
    ticket = open_ticket(customer, "Slow site", "normal", "Pages take 20 s.")
    number, tid = ticket["ticket_number"], ticket["id"]
    for n in range(11):  # one more staff reply than the 10 support mails an hour
        reply = tech.post(f"/api/v1/tickets/{tid}/replies", json={"content": f"Step {n}"})
        assert reply.status_code == 201, reply.text
    entries = eventually(
        lambda: len(bell(customer.http, "ticket_staff_reply")) == 11 or None, what="the bell"
    )
    assert entries
    eventually(lambda: len(mails(platform, customer.email, number)) == 10 or None, what="mails")

    clock(timedelta(hours=1, minutes=2))  # the hour is over
    digest = mailed(platform, customer.email, "Tổng hợp", "the digest")
    assert digest.subject == "Tổng hợp 1 thông báo chưa gửi qua email"
    assert f"[{number}] Phản hồi mới: Slow site" in digest.body
    time.sleep(3)  # more sweeps: still the one digest, and nothing held is lost or sent twice
    assert len(mails(platform, customer.email, "Tổng hợp")) == 1
    assert len(mails(platform, customer.email, number)) == 10
