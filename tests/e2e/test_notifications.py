"""Notifications end to end: a top-up's receipt by mail (read from the SMTP catcher) and in
the bell list, through the gateway; preferences that refuse what may not be switched off."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from portal_tests.e2e import eventually, paid, problem, staff_client, webhook

pytestmark = pytest.mark.e2e


def test_a_top_up_sends_a_vietnamese_receipt_and_rings_the_bell(platform, customer):
    top_up = customer.top_up(1_234_567, method="sandbox")
    assert top_up.status_code == 201, top_up.text
    reference = top_up.json()["payment"]["reference"]
    assert webhook(platform["url"], paid(reference, 1_234_567)).status_code == 200

    mails = eventually(
        lambda: platform["mail"].messages(to=customer.email), timeout=120, what="receipt mail"
    )
    [mail] = mails
    assert mail.subject == "Đã nhận 1.234.567 ₫ nạp vào ví"
    assert "1.234.567 ₫" in mail.body and "Xin chào" in mail.body and reference in mail.body

    page = eventually(
        lambda: (r := customer.http.get("/api/v1/notifications")).json()["total"] and r.json(),
        timeout=60,
        what="bell entry",
    )
    assert page["unread"] == 1 and page["total"] == 1
    [entry] = page["items"]
    assert entry["category"] == "billing_receipts" and not entry["read"]
    assert "1.234.567 ₫" in entry["title"]

    read = customer.http.post(f"/api/v1/notifications/{entry['id']}/read")
    assert read.status_code == 200, read.text
    assert read.json()["read"] is True
    assert customer.http.get("/api/v1/notifications").json()["unread"] == 0
    all_read = customer.http.post("/api/v1/notifications/read-all")
    assert all_read.status_code == 200 and all_read.json() == {"marked": 0, "unread": 0}

    # The same event is not told twice, whatever the consumers replay: still one mail.
    assert len(platform["mail"].messages(to=customer.email)) == 1


def test_preferences_refuse_switching_off_receipts_and_malformed_updates(platform, customer):
    url = "/api/v1/me/notification-preferences"
    before = customer.http.get(url)
    assert before.status_code == 200, before.text
    categories = {c["category"]: c for c in before.json()["categories"]}
    assert categories["billing_receipts"]["mandatory"] and categories["security"]["mandatory"]

    problem(
        customer.http.put(url, json={"billing_receipts": {"email": False}}),
        422,
        "category_mandatory",
    )
    for bad in ({"support": {"email": "no"}}, {"marketing": {"email": False}}, [1]):
        r = customer.http.put(url, json=bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert customer.http.get(url).json() == before.json()

    changed = customer.http.put(url, json={"support": {"email": False}})
    assert changed.status_code == 200, changed.text
    support = next(c for c in changed.json()["categories"] if c["category"] == "support")
    assert support["channels"] == {"email": False, "in_app": True}
    assert customer.http.get(url).json() == changed.json()


def test_the_bell_needs_a_token(platform):
    r = httpx.get(f"{platform['url']}/api/v1/notifications", timeout=20)
    problem(r, 401)


def test_staff_read_the_delivery_log_and_customers_are_refused(platform, customer):
    reference = customer.top_up(70_000, method="sandbox").json()["payment"]["reference"]
    assert webhook(platform["url"], paid(reference, 70_000)).status_code == 200
    agent = staff_client(platform["url"], "support_agent", "technical")
    log = "/api/v1/staff/notifications/deliveries"
    mine = {"recipient": customer.email, "template": "top_up_received"}

    def sent() -> dict | None:
        page = agent.get(log, params={**mine, "status": "sent"}).json()
        return page if page["total"] == 2 else None

    page = eventually(sent, timeout=120, what="the receipt in the delivery log")
    assert sorted(i["channel"] for i in page["items"]) == ["email", "in_app"]
    [mail] = [i for i in page["items"] if i["channel"] == "email"]
    assert mail["recipient"] == customer.email and mail["user_id"] == customer.user_id
    assert mail["attempts"] == 1 and mail["last_error"] is None and mail["created_at"]
    one = agent.get(log, params={**mine, "channel": "email", "limit": 1, "offset": 0}).json()
    assert (
        one["total"] == 1 and one["limit"] == 1 and [i["id"] for i in one["items"]] == [mail["id"]]
    )
    assert agent.get(log, params={**mine, "status": "failed"}).json()["total"] == 0

    problem(agent.get(log, params={"status": "lost"}), 400)
    problem(agent.get(log, params={"limit": 0}), 400)
    problem(customer.http.get(log), 403, "forbidden")
    problem(httpx.get(f"{platform['url']}{log}", timeout=20), 401)


def bell_counts(stream: httpx.Response) -> Iterator[int]:
    """The unread counts of a live stream's `event: notifications` messages."""
    kind = None
    for line in stream.iter_lines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind == "notifications":
            bell = json.loads(line.split(":", 1)[1])
            assert set(bell) == {"unread"}, bell
            yield bell["unread"]


def test_the_bell_rings_live_over_the_dashboard_stream(platform, customer):
    """The unread count comes over the dashboard's SSE stream: at once, when a message
    lands, and when it is marked read (so the web's bell needs no polling)."""
    counts: list[int] = []
    with customer.http.stream("GET", "/api/v1/dashboard/stream", timeout=60) as stream:
        for unread in bell_counts(stream):
            counts.append(unread)
            if len(counts) == 1:
                ref = customer.top_up(50_000, method="sandbox").json()["payment"]["reference"]
                assert webhook(platform["url"], paid(ref, 50_000)).status_code == 200
            elif unread == 1:
                [entry] = customer.http.get("/api/v1/notifications").json()["items"]
                assert entry["link"] == "/transactions"  # the bell entry opens its object
                assert customer.http.post(f"/api/v1/notifications/{entry['id']}/read").is_success
            elif unread == 0:
                break
    assert counts[0] == 0 and counts[-2:] == [1, 0], counts
