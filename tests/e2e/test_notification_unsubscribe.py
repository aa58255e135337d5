"""Unsubscribe end to end through the gateway: a support mail carries the one-click link and
the RFC 8058 headers; the POST a mail client sends switches that category's mail off (the
bell keeps ringing); receipts carry no link; a forged token changes nothing."""

from __future__ import annotations

import httpx
import pytest

from portal_tests.e2e import Customer, eventually, paid, problem, staff_client, webhook

pytestmark = pytest.mark.e2e


def test_one_click_unsubscribe_switches_the_category_off_for_mail(platform):
    url = platform["url"]
    agent = staff_client(url, "support_agent", "technical")
    customer = Customer(url)
    opened = customer.http.post(
        "/api/v1/tickets",
        json={
            "department": "technical",
            "title": "Slow site",
            "request_type": "question",
            "priority": "low",
            "content": "Pages take 10 s.",
        },
    )
    assert opened.status_code == 201, opened.text
    tid, number = opened.json()["id"], opened.json()["ticket_number"]

    def replied(content: str) -> None:
        r = agent.post(f"/api/v1/tickets/{tid}/replies", json={"content": content})
        assert r.status_code == 201, r.text

    def support_mails() -> list:
        return [m for m in platform["mail"].messages(to=customer.email) if number in m.subject]

    replied("We enabled the cache.")
    [mail] = eventually(support_mails, timeout=120, what="the staff reply mail")
    assert mail.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    link = mail.list_unsubscribe.removeprefix("<").removesuffix(">")
    assert link.startswith(f"{url}/api/v1/notifications/unsubscribe?token="), link
    assert f"Hủy đăng ký: {link}" in mail.body

    page = httpx.get(link, timeout=20)  # what a mail scanner fetches: changes nothing
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post"' in page.text
    prefs = "/api/v1/me/notification-preferences"
    support = next(
        c for c in customer.http.get(prefs).json()["categories"] if c["category"] == "support"
    )
    assert support["channels"] == {"email": True, "in_app": True}

    token = link.partition("token=")[2]
    forged = httpx.post(f"{url}/api/v1/notifications/unsubscribe?token={token[:-3]}abc", timeout=20)
    problem(forged, 400, "invalid_unsubscribe_token")
    problem(httpx.post(f"{url}/api/v1/notifications/unsubscribe", timeout=20), 400)

    # What a mail client sends for one-click (RFC 8058 section 3.2): no cookie, no token.
    done = httpx.post(
        link,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=20,
    )
    assert done.status_code == 200, done.text
    assert done.json()["category"] == "support"
    support = next(
        c for c in customer.http.get(prefs).json()["categories"] if c["category"] == "support"
    )
    assert support["channels"] == {"email": False, "in_app": True}

    replied("And compressed the images.")

    def replies_in_the_bell() -> list[str]:
        items = customer.http.get("/api/v1/notifications").json()["items"]
        return [e["body"] for e in items if e["template"] == "ticket_staff_reply"]

    bodies = eventually(
        lambda: len(replies_in_the_bell()) == 2 and replies_in_the_bell(),
        timeout=120,
        what="the second reply in the bell",
    )
    assert "compressed the images" in bodies[0]
    assert len(support_mails()) == 1  # no second mail

    # Receipts cannot be switched off: no link, no header.
    reference = customer.top_up(50_000).json()["payment"]["reference"]
    assert webhook(url, paid(reference, 50_000)).status_code == 200
    receipt = eventually(
        lambda: [
            m for m in platform["mail"].messages(to=customer.email) if "50.000 ₫" in m.subject
        ],
        timeout=120,
        what="the receipt",
    )[0]
    assert receipt.list_unsubscribe == "" and "unsubscribe" not in receipt.body
