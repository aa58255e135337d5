"""Tickets end to end: attachments, conversation, internal notes, SLA, auto-close."""

from __future__ import annotations

import base64
import struct
import time
import uuid
import zlib

import httpx
import pytest

from portal_tests.e2e import Customer, admin_client, login, problem

pytestmark = pytest.mark.e2e


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def file(name: str, data: bytes) -> dict[str, str]:
    return {"filename": name, "content_base64": base64.b64encode(data).decode()}


@pytest.fixture(scope="module")
def agent(platform) -> httpx.Client:
    admin = admin_client(platform["url"])
    email = f"agent-{uuid.uuid4().hex[:8]}@example.com"
    r = admin.post(
        "/api/v1/staff/users",
        json={
            "email": email,
            "name": "Agent",
            "password": "agent password 1",
            "platform_roles": ["support_agent"],
            "department": "technical",
        },
    )
    assert r.status_code == 201, r.text
    tokens = login(platform["url"], email, "agent password 1")
    return httpx.Client(
        base_url=platform["url"],
        timeout=30,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )


def test_open_with_attachments_converse_resolve_rate_and_auto_close(platform, agent):
    customer = Customer(platform["url"], wait_for_wallet=False)
    r = customer.http.post(
        "/api/v1/tickets",
        json={
            "department": "technical",
            "title": "Email bounces for example.vn",
            "request_type": "incident",
            "priority": "high",
            "content": "All mail bounces.",
            "attachments": [file("bounce.png", png()), file("headers.pdf", PDF)],
        },
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    tid = ticket["id"]
    assert ticket["ticket_number"].startswith("TK-") and ticket["status"] == "open"
    attachments = ticket["messages"][0]["attachments"]
    assert [a["content_type"] for a in attachments] == ["image/png", "application/pdf"]
    assert all(a["filename"] not in ("bounce.png", "headers.pdf") for a in attachments)
    got = customer.http.get(f"/api/v1/tickets/{tid}/attachments/{attachments[1]['file_id']}")
    assert got.content == PDF and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment")
    assert ticket["response_status"] == "awaiting_staff"
    assert ticket["sla"]["first_response_at"] is None

    found = agent.get(
        "/api/v1/tickets", params={"department": "technical", "q": "bounces", "status": "open"}
    ).json()
    assert tid in [t["id"] for t in found["items"]]

    r = agent.post(
        f"/api/v1/tickets/{tid}/replies",
        json={"content": "Please send the full headers.", "then_status": "waiting_for_customer"},
    )
    assert r.status_code == 201, r.text
    r = agent.post(
        f"/api/v1/tickets/{tid}/replies",
        json={"content": "Customer is on the legacy mail cluster", "internal": True},
    )
    assert r.status_code == 201
    seen = customer.http.get(f"/api/v1/tickets/{tid}").json()
    assert seen["status"] == "waiting_for_customer"
    assert seen["response_status"] == "awaiting_customer" and seen["sla"]["paused"]
    assert seen["sla"]["first_response_at"] is not None
    assert "legacy mail cluster" not in str(seen)
    assert "legacy mail cluster" not in customer.http.get(f"/api/v1/tickets/{tid}/replies").text
    assert "legacy mail cluster" in agent.get(f"/api/v1/tickets/{tid}/replies").text

    r = customer.http.post(
        f"/api/v1/tickets/{tid}/replies",
        json={"content": "Headers attached", "attachments": [file("full.png", png())]},
    )
    assert r.status_code == 201, r.text
    after = r.json()
    assert after["status"] == "open" and not after["sla"]["paused"]
    assert after["response_status"] == "awaiting_staff"

    problem(
        customer.http.post(f"/api/v1/tickets/{tid}/rating", json={"rating": 5}), 409, "not_resolved"
    )
    problem(customer.http.post(f"/api/v1/tickets/{tid}/status", json={"status": "resolved"}), 403)
    r = agent.post(f"/api/v1/tickets/{tid}/status", json={"status": "resolved"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    r = customer.http.post(f"/api/v1/tickets/{tid}/rating", json={"rating": 5, "comment": "fast"})
    assert r.status_code == 200 and r.json()["rating"] == 5

    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        status = customer.http.get(f"/api/v1/tickets/{tid}").json()["status"]
        if status == "closed":
            break
        time.sleep(0.5)
    assert status == "closed"
    problem(
        customer.http.post(f"/api/v1/tickets/{tid}/replies", json={"content": "hi"}),
        409,
        "ticket_closed",
    )

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        board = customer.dashboard()
        latest = board.get("tickets", {}).get("latest", [])
        if latest and latest[0].get("status") == "closed":
            break
        time.sleep(0.3)
    assert latest[0]["id"] == tid and board["tickets"]["open"] == 0
    staff = admin_client(platform["url"]).get("/api/v1/staff/dashboard").json()
    assert "by_status" in staff["tickets"]


def test_staff_open_a_ticket_for_a_customer_and_route_it(platform, agent):
    customer = Customer(platform["url"], wait_for_wallet=False)
    problem(
        agent.post(
            "/api/v1/tickets", json={"department": "billing", "title": "Invoice", "content": "x"}
        ),
        422,
        "account_required",
    )
    r = agent.post(
        "/api/v1/tickets",
        json={
            "account_id": customer.account_id,
            "department": "billing",
            "title": "Invoice copy",
            "content": "Customer called.",
        },
    )
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = agent.post(f"/api/v1/tickets/{tid}/assignment", json={"department": "sales"})
    assert r.status_code == 200 and r.json()["department"] == "sales"
    r = agent.post(f"/api/v1/tickets/{tid}/priority", json={"priority": "urgent"})
    assert r.json()["priority"] == "urgent"
    mine = customer.http.get("/api/v1/tickets").json()
    assert [t["id"] for t in mine["items"]] == [tid]
    unassigned = agent.get("/api/v1/tickets", params={"unassigned": "true"}).json()
    assert tid in [t["id"] for t in unassigned["items"]]
    # The agent is in "technical"; the ticket went to "sales".
    own = agent.get("/api/v1/tickets", params={"my_department": "true"}).json()
    assert tid not in [t["id"] for t in own["items"]]
    r = agent.post(f"/api/v1/tickets/{tid}/assignment", json={"department": "technical"})
    own = agent.get("/api/v1/tickets", params={"my_department": "true"}).json()
    assert tid in [t["id"] for t in own["items"]]


def test_attachments_show_and_download_under_the_name_they_were_sent_as(platform, agent):
    customer = Customer(platform["url"], wait_for_wallet=False)
    r = customer.http.post(
        "/api/v1/tickets",
        json={
            "department": "technical",
            "title": "Page is blank",
            "content": "Screenshot attached.",
            "attachments": [file("screenshot.png", png()), file("Hóa đơn 11.pdf", PDF)],
        },
    )
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    shot, invoice = r.json()["messages"][0]["attachments"]
    assert (shot["display_name"], invoice["display_name"]) == ("screenshot.png", "Hóa đơn 11.pdf")
    # Stored under a server-made name, as before.
    assert shot["filename"] == f"{shot['file_id']}.png"
    seen = agent.get(f"/api/v1/tickets/{tid}").json()["messages"][0]["attachments"]
    assert [a["display_name"] for a in seen] == ["screenshot.png", "Hóa đơn 11.pdf"]

    got = agent.get(f"/api/v1/tickets/{tid}/attachments/{shot['file_id']}")
    assert got.status_code == 200 and got.content == png()
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"screenshot.png\"; filename*=UTF-8''screenshot.png"
    )
    got = customer.http.get(f"/api/v1/tickets/{tid}/attachments/{invoice['file_id']}")
    assert got.headers["content-disposition"].endswith("UTF-8''H%C3%B3a%20%C4%91%C6%A1n%2011.pdf")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"attachments": [file("photo.png", PDF)]}, 415, "file_type_mismatch"),
        (
            {"attachments": [file("big.pdf", PDF + b"0" * (10 * 1024 * 1024))]},
            413,
            "file_too_large",
        ),
        ({"attachments": [file("../../etc/passwd.png", png())]}, 400, "invalid_file_name"),
        ({"attachments": [file("a.exe", b"MZ\x90\x00")]}, 415, "unsupported_file_type"),
        ({"attachments": [file(f"p{i}.png", png()) for i in range(6)]}, 422, "too_many_files"),
        ({"department": "nowhere"}, 422, "unknown_department"),
        ({"title": ""}, 422, "title_required"),
        ({"title": "x", "extra": 1}, 400, "validation_error"),
    ],
    ids=[
        "bytes-not-what-name-says",
        "oversized",
        "path-in-name",
        "not-image-or-pdf",
        "six-files",
        "unknown-department",
        "empty-title",
        "unknown-field",
    ],
)
def test_bad_tickets_are_refused_and_store_nothing(platform, body, status, code):
    customer = Customer(platform["url"], wait_for_wallet=False)
    db = platform["tickets_db"]
    before = (db["commits"].count_documents({}), db["attachments"].count_documents({}))
    payload = {"department": "technical", "title": "Help", "content": "details", **body}
    problem(customer.http.post("/api/v1/tickets", json=payload), status, code)
    assert (db["commits"].count_documents({}), db["attachments"].count_documents({})) == before


def test_staff_outside_support_see_their_department_only(platform):
    admin = admin_client(platform["url"])
    email = f"billing-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        admin.post(
            "/api/v1/staff/users",
            json={
                "email": email,
                "name": "Billing",
                "password": "billing password 1",
                "platform_roles": ["billing_admin"],
                "department": "billing",
            },
        ).status_code
        == 201
    )
    billing = httpx.Client(
        base_url=platform["url"],
        timeout=30,
        headers={
            "Authorization": "Bearer "
            + login(platform["url"], email, "billing password 1")["access_token"]
        },
    )
    customer = Customer(platform["url"], wait_for_wallet=False)
    tech = customer.http.post(
        "/api/v1/tickets", json={"department": "technical", "title": "DNS", "content": "x"}
    ).json()
    bill = customer.http.post(
        "/api/v1/tickets", json={"department": "billing", "title": "VAT", "content": "x"}
    ).json()
    problem(billing.get(f"/api/v1/tickets/{tech['id']}"), 404)
    assert billing.get(f"/api/v1/tickets/{bill['id']}").status_code == 200
    listed = {t["department"] for t in billing.get("/api/v1/tickets").json()["items"]}
    assert listed == {"billing"}


def test_another_account_cannot_see_or_reply(platform):
    a, b = (
        Customer(platform["url"], wait_for_wallet=False),
        Customer(platform["url"], wait_for_wallet=False),
    )
    tid = a.http.post(
        "/api/v1/tickets", json={"department": "technical", "title": "Mine", "content": "secret"}
    ).json()["id"]
    problem(b.http.get(f"/api/v1/tickets/{tid}"), 404, "ticket_not_found")
    problem(b.http.post(f"/api/v1/tickets/{tid}/replies", json={"content": "hi"}), 404)
    assert b.http.get("/api/v1/tickets").json()["total"] == 0
