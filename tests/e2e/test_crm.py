"""CRM and loyalty end to end: customers from registrations, care actions, levels from
care and from billing, round-robin leads, soft delete, the timeline, bad input."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from portal_tests.e2e import Customer, admin_client, eventually, login, paid, problem, webhook
from portal_tests.openapi import http_methods

pytestmark = pytest.mark.e2e
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def admin(platform) -> httpx.Client:
    return admin_client(platform["url"])


def staff_member(url: str, admin: httpx.Client, department: str, role: str = "sales") -> Any:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    r = admin.post(
        "/api/v1/staff/users",
        json={
            "email": email,
            "name": f"Staff {email[:10]}",
            "password": "staff password 1",
            "platform_roles": [role],
            "department": department,
        },
    )
    assert r.status_code == 201, r.text
    token = login(url, email, "staff password 1")["access_token"]
    client = httpx.Client(base_url=url, timeout=20, headers={"Authorization": f"Bearer {token}"})
    client.user_id = r.json()["user_id"]  # type: ignore[attr-defined]
    return client


def customer_row(admin: httpx.Client, email: str) -> Any:
    items = admin.get("/api/v1/crm/customers", params={"q": email}).json()["items"]
    return items and items[0]


def test_registered_customer_gets_points_money_and_a_level(platform, admin):
    url = platform["url"]
    c = Customer(url)
    row = eventually(lambda: customer_row(admin, c.email), what="the customer in the CRM")
    assert row["id"] == c.account_id and row["kind"] == "customer" and row["level"] == "member"

    r = admin.post(
        f"/api/v1/crm/contacts/{c.account_id}/care-actions",
        json={"care_type_id": "give-points", "value": 500, "note": "welcome gift"},
    )
    assert r.status_code == 201, r.text
    r = admin.post(
        f"/api/v1/crm/contacts/{c.account_id}/care-actions",
        json={"care_type_id": "give-money", "value": 6_000_000, "note": "migrated history"},
    )
    assert r.status_code == 201, r.text
    detail = r.json()
    assert detail["loyalty"]["level"] == "silver" and detail["loyalty"]["points"] == 500
    assert [h["action"] for h in detail["care_history"]] == ["give_money", "give_points"]

    mine = c.http.get("/api/v1/loyalty").json()
    assert (mine["points"], mine["level"], mine["next_level"]) == (500, "silver", "gold")
    assert mine["to_next_level"] == 14_000_000 and 0 <= mine["progress_percent"] < 100
    board = eventually(
        lambda: (b := c.dashboard()).get("loyalty", {}).get("level") == "silver" and b,
        what="the loyalty part of the dashboard",
    )
    assert board["loyalty"]["points"] == 500
    staff_board = eventually(
        lambda: (
            (s := admin.get("/api/v1/staff/dashboard").json()["crm"])["customers_by_level"].get(
                "silver"
            )
            and s
        ),
        what="customers by level on the staff dashboard",
    )
    assert sum(staff_board["customers_by_level"].values()) >= 1

    why = admin.get(f"/api/v1/crm/customers/{c.account_id}/level").json()
    assert why["because"][0]["delta"] == 6_000_000 and why["because"][0]["source"] == "care_action"
    assert why["level_changes"][0]["to"] == "silver"

    # A deduction below zero is refused and changes nothing.
    problem(
        admin.post(
            f"/api/v1/crm/contacts/{c.account_id}/care-actions",
            json={"care_type_id": "deduct-points", "value": 501},
        ),
        422,
        "points_insufficient",
    )
    assert c.http.get("/api/v1/loyalty").json()["points"] == 500


def test_invoices_paid_and_refunded_move_accumulated_money(platform, admin):
    url = platform["url"]
    c = Customer(url)
    ref = c.top_up(300_000).json()["payment"]["reference"]
    assert webhook(url, paid(ref, 300_000)).status_code == 200
    eventually(lambda: c.http.get("/api/v1/wallet").json()["balance"] == 300_000)
    invoice = c.http.post("/api/v1/orders", json={"plan_id": "host-sup", "months": 3}).json()
    r = c.http.post(f"/api/v1/invoices/{invoice['id']}/pay", json={"method": "wallet"})
    assert r.json()["status"] == "paid", r.text
    eventually(
        lambda: c.http.get("/api/v1/loyalty").json()["accumulated"] == 300_000,
        what="InvoicePaid counted",
    )
    r = admin.post(
        f"/api/v1/invoices/{invoice['id']}/refund", json={"amount": 100_000, "reason": "goodwill"}
    )
    assert r.status_code == 200, r.text
    eventually(
        lambda: c.http.get("/api/v1/loyalty").json()["accumulated"] == 200_000,
        what="the refund reversed",
    )
    why = admin.get(f"/api/v1/crm/customers/{c.account_id}/level").json()
    assert [b["source"] for b in why["because"]] == ["invoice_refunded", "invoice_paid"]


def test_leads_round_robin_over_a_department(platform, admin):
    url = platform["url"]
    department = f"leads{uuid.uuid4().hex[:6]}"
    r = admin.post("/api/v1/staff/departments", json={"id": department, "name": "Leads"})
    assert r.status_code == 201, r.text
    first, second = staff_member(url, admin, department), staff_member(url, admin, department)
    ids = []
    for n in range(4):
        r = admin.post(
            "/api/v1/crm/contacts",
            json={"name": f"Lead {n}", "phone": "0901234567", "group": "hot", "source": "ads"},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    unassigned = admin.get("/api/v1/crm/contacts", params={"scope": "unassigned_lead"}).json()
    assert set(ids) <= {i["id"] for i in unassigned["items"]}
    eventually(
        lambda: admin.get("/api/v1/staff/dashboard").json()["crm"]["leads_unassigned"] >= 4,
        what="unassigned leads on the staff dashboard",
    )

    def assign() -> Any:
        r = admin.post(
            "/api/v1/crm/contacts/bulk/assign",
            json={
                "ids": [*ids, ids[0]],  # selected twice: still one turn
                "method": "round_robin",
                "department": department,
                "note": "go",
            },
        )
        # Staff users reach the CRM through identity's events: wait until both are known.
        if r.status_code == 200 and len({i["caretaker_id"] for i in r.json()["items"]}) == 2:
            return r.json()["items"]
        return None

    items = eventually(assign, what="two caretakers in the department")
    assert [i["id"] for i in items] == ids
    caretakers = [i["caretaker_id"] for i in items]
    assert set(caretakers) == {first.user_id, second.user_id}
    assert caretakers[0] != caretakers[1] and caretakers[0::2] == [caretakers[0]] * 2
    holding = first.get("/api/v1/crm/contacts", params={"scope": "holding"}).json()
    assert {i["id"] for i in holding["items"]} & set(ids)
    still = admin.get("/api/v1/crm/contacts", params={"scope": "unassigned_lead"}).json()
    assert not set(ids) & {i["id"] for i in still["items"]}


def test_labels_comments_soft_delete_and_restore(platform, admin):
    url = platform["url"]
    member = staff_member(url, admin, "sales")
    r = admin.post(
        "/api/v1/crm/contacts",
        json={"name": "Cong ty ABC", "tax_code": "0312345678", "email": "abc@example.com"},
    )
    contact = r.json()
    cid = contact["id"]
    r = member.put(f"/api/v1/crm/contacts/{cid}/labels", json={"labels": ["hot", "premium"]})
    assert r.json()["labels"] == ["hot", "premium"], r.text
    found = member.get("/api/v1/crm/contacts", params={"label": "hot", "q": "0312345678"}).json()
    assert [i["id"] for i in found["items"]] == [cid]
    r = member.post(
        f"/api/v1/crm/contacts/{cid}/comments",
        json={
            "text": "Asked for a quote",
            "attachments": [
                {"filename": "quote.pdf", "content_base64": base64.b64encode(PDF).decode()}
            ],
        },
    )
    assert r.status_code == 201, r.text
    attachment = r.json()["comments"][0]["attachments"][0]
    got = member.get(f"/api/v1/crm/contacts/{cid}/attachments/{attachment['file_id']}")
    assert got.content == PDF and got.headers["x-content-type-options"] == "nosniff"
    r = member.put(f"/api/v1/crm/contacts/{cid}/portrait", json={"attributes": {"Budget": "high"}})
    assert r.json()["portrait"] == {"Budget": "high"}

    problem(member.delete(f"/api/v1/crm/contacts/{cid}"), 422, "confirmation_required")
    r = member.post("/api/v1/crm/contacts/bulk/delete", json={"ids": [cid, cid], "confirm": True})
    assert r.status_code == 200 and r.json()["deleted"] == 1, r.text
    problem(member.get(f"/api/v1/crm/contacts/{cid}"), 404, "contact_not_found")
    listed = member.get("/api/v1/crm/contacts", params={"q": "0312345678"}).json()
    assert listed["total"] == 0
    problem(member.post(f"/api/v1/crm/contacts/{cid}/restore"), 403, "forbidden")
    problem(member.get("/api/v1/crm/contacts", params={"deleted": "true"}), 403)
    deleted = admin.get("/api/v1/crm/contacts", params={"deleted": "true", "q": "0312345678"})
    assert [i["id"] for i in deleted.json()["items"]] == [cid]
    r = admin.post(f"/api/v1/crm/contacts/{cid}/restore")
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    assert member.get(f"/api/v1/crm/contacts/{cid}").json()["labels"] == ["hot", "premium"]
    r = admin.post(f"/api/v1/crm/contacts/{cid}/convert")
    assert r.json()["kind"] == "customer" and r.json()["loyalty"]["level"] == "member"


def test_care_activities_due_today_then_done(platform, admin):
    url = platform["url"]
    c = Customer(url)
    eventually(lambda: customer_row(admin, c.email), what="the customer")
    due = datetime.now(UTC).replace(hour=23, minute=0, second=0, microsecond=0)
    r = admin.post(
        "/api/v1/crm/care-activities",
        json={
            "contact_id": c.account_id,
            "title": "Thank-you call and points",
            "care_type_id": "give-points",
            "value": 50,
            "due_at": due.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    activity = r.json()
    today = admin.get("/api/v1/crm/care-activities", params={"scope": "today"}).json()
    assert activity["id"] in [i["id"] for i in today["items"]]
    eventually(
        lambda: admin.get("/api/v1/staff/dashboard").json()["crm"]["care_activities_due_today"],
        what="due today on the staff dashboard",
    )
    r = admin.post(
        f"/api/v1/crm/care-activities/{activity['id']}/comments", json={"text": "Called, happy"}
    )
    assert r.status_code == 201 and r.json()["comments"][0]["text"] == "Called, happy"
    for _ in range(2):  # done twice: the points are given once
        r = admin.post(
            f"/api/v1/crm/care-activities/{activity['id']}/complete", json={"outcome": "ok"}
        )
        assert r.status_code == 200 and r.json()["status"] == "done", r.text
    assert c.http.get("/api/v1/loyalty").json()["points"] == 50
    problem(admin.post(f"/api/v1/crm/care-activities/{activity['id']}/cancel"), 409)


def test_new_thresholds_recompute_levels(platform, admin):
    url = platform["url"]
    c = Customer(url)
    eventually(lambda: customer_row(admin, c.email), what="the customer")
    admin.post(
        f"/api/v1/crm/contacts/{c.account_id}/care-actions",
        json={"care_type_id": "give-money", "value": 1_000_000},
    )
    assert c.http.get("/api/v1/loyalty").json()["level"] == "member"
    original = admin.get("/api/v1/crm/levels").json()["items"]
    try:
        # Silver moves closer but the level stays: the dashboard's progress follows anyway.
        r = admin.put(
            "/api/v1/crm/levels",
            json={
                "levels": [
                    {"name": "member", "min_accumulated": 0},
                    {"name": "silver", "min_accumulated": 4_000_000},
                ]
            },
        )
        assert r.status_code == 202 and r.json()["recompute"]["status"] == "running", r.text
        loyalty = eventually(
            lambda: (
                (board := c.dashboard().get("loyalty"))
                and board["to_next_level"] == 3_000_000
                and board
            ),
            what="the dashboard's progress after new thresholds",
        )
        assert (loyalty["level"], loyalty["progress_percent"]) == ("member", 25)
        r = admin.put(
            "/api/v1/crm/levels",
            json={
                "levels": [
                    {"name": "member", "min_accumulated": 0},
                    {"name": "silver", "min_accumulated": 500_000},
                ]
            },
        )
        assert r.status_code == 202, r.text
        eventually(
            lambda: c.http.get("/api/v1/loyalty").json()["level"] == "silver",
            what="the background recompute",
        )
        job = eventually(
            lambda: (
                (j := admin.get("/api/v1/crm/levels").json()["recompute"])["status"] == "done" and j
            ),
            what="the recompute job to finish",
        )
        assert job["customers_changed"] >= 1 and job["finished_at"]
        by_level = admin.get(
            "/api/v1/crm/customers", params={"level": "silver", "q": c.email}
        ).json()
        assert [i["id"] for i in by_level["items"]] == [c.account_id]
    finally:
        admin.put("/api/v1/crm/levels", json={"levels": original})
    eventually(
        lambda: c.http.get("/api/v1/loyalty").json()["level"] == "member",
        what="the old thresholds back",
    )


def test_the_timeline_shows_a_wallet_top_up_but_not_staff_notes(platform, admin):
    url = platform["url"]
    c = Customer(url)
    eventually(lambda: customer_row(admin, c.email), what="the customer")
    ref = c.top_up(120_000).json()["payment"]["reference"]
    assert webhook(url, paid(ref, 120_000)).status_code == 200
    admin.post(f"/api/v1/crm/contacts/{c.account_id}/comments", json={"text": "VIP, be nice"})
    timeline = eventually(
        lambda: (
            (t := c.http.get("/api/v1/timeline").json())["items"]
            and any(i["type"] == "TopUpCompleted" for i in t["items"])
            and t
        ),
        what="the top-up on the timeline",
    )
    top_up = next(i for i in timeline["items"] if i["type"] == "TopUpCompleted")
    assert top_up["title"] == "Top-up of 120.000 VND completed" and top_up["context"] == "wallet"
    # what a front end words it with in another language
    assert top_up["key"] == "TopUpCompleted"
    assert top_up["params"] == {"amount_received": 120_000, "currency": "VND"}
    times = [i["at"] for i in timeline["items"]]
    assert times == sorted(times, reverse=True)
    assert "VIP" not in str(timeline)
    staff_view = eventually(
        lambda: (
            (t := admin.get(f"/api/v1/crm/customers/{c.account_id}/timeline").json())
            and any(i["type"] == "CommentAdded" for i in t["items"])
            and t
        ),
        what="the staff timeline",
    )
    assert any(i["type"] == "TopUpCompleted" for i in staff_view["items"])

    wallet_only = c.http.get("/api/v1/timeline", params={"context": "wallet"}).json()
    assert wallet_only["items"] and {i["context"] for i in wallet_only["items"]} == {"wallet"}
    everything = c.http.get("/api/v1/timeline", params={"limit": 100}).json()
    assert "AccountRegistered" in {i["type"] for i in everything["items"]}
    assert wallet_only["total"] < everything["total"]

    def second_entry_alone() -> bool:
        full = c.http.get("/api/v1/timeline").json()
        page = c.http.get("/api/v1/timeline", params={"limit": 1, "offset": 1}).json()
        return full["total"] >= 2 and page["items"] == full["items"][1:2]

    eventually(second_entry_alone, what="a page of one entry at offset 1")
    staff_crm = admin.get(
        f"/api/v1/crm/customers/{c.account_id}/timeline", params={"context": "crm"}
    ).json()
    assert staff_crm["items"] and {i["context"] for i in staff_crm["items"]} == {"crm"}
    problem(c.http.get("/api/v1/timeline", params={"context": "nope"}), 400)


def test_bad_input_is_refused_and_nothing_is_stored(platform, admin):
    url = platform["url"]
    c = Customer(url)
    eventually(lambda: customer_row(admin, c.email), what="the customer")
    base = f"/api/v1/crm/contacts/{c.account_id}"
    problem(
        admin.post(f"{base}/care-actions", json={"care_type_id": "nope", "value": 1}),
        422,
        "unknown_care_type",
    )
    problem(
        admin.post(f"{base}/care-actions", json={"care_type_id": "give-points", "value": -5}), 400
    )
    problem(admin.put(f"{base}/labels", json={"labels": ["no-such-label"]}), 422, "unknown_label")
    problem(admin.post("/api/v1/crm/contacts", json={"name": ""}), 400)
    problem(admin.post("/api/v1/crm/contacts", json={"name": "X", "email": "not an email"}), 400)
    problem(admin.put(f"{base}/portrait", json={"attributes": {"a.b": "x"}}), 400)
    problem(
        admin.post(
            "/api/v1/crm/care-activities",
            json={
                "contact_id": c.account_id,
                "title": "x",
                "care_type_id": "call",
                "due_at": "2026-11-22T10:00:00",
            },
        ),
        400,
    )
    problem(
        admin.post(
            f"{base}/comments",
            json={
                "text": "x",
                "attachments": [
                    {"filename": "x.pdf", "content_base64": base64.b64encode(b"MZ\x90").decode()}
                ],
            },
        ),
        415,
    )
    # A customer (not staff) cannot give themselves points, label themselves, add contacts
    # or move the thresholds: 403 at the gateway, nothing reaches the CRM.
    name = f"Self-made {uuid.uuid4().hex[:8]}"
    problem(
        c.http.post(f"{base}/care-actions", json={"care_type_id": "give-points", "value": 9}),
        403,
        "forbidden",
    )
    problem(c.http.put(f"{base}/labels", json={"labels": ["premium"]}), 403, "forbidden")
    problem(c.http.post("/api/v1/crm/contacts", json={"name": name}), 403, "forbidden")
    levels = admin.get("/api/v1/crm/levels").json()["items"]
    problem(
        c.http.put("/api/v1/crm/levels", json={"levels": [{"name": "vip", "min_accumulated": 0}]}),
        403,
        "forbidden",
    )
    assert admin.get("/api/v1/crm/levels").json()["items"] == levels
    assert admin.get("/api/v1/crm/contacts", params={"q": name}).json()["total"] == 0
    assert c.http.get("/api/v1/loyalty").json()["points"] == 0

    detail = admin.get(base).json()
    assert detail["care_history"] == [] and detail["labels"] == [] and detail["comments"] == []
    assert detail["loyalty"]["points"] == 0


def test_customers_get_403_on_every_crm_route(platform):
    url = platform["url"]
    c = Customer(url)
    schema = httpx.get(f"{url}/schema/openapi.json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/crm/"):
            continue
        concrete = path.replace("{contact_id}", c.account_id)
        for part in ("activity_id", "file_id"):
            concrete = concrete.replace("{" + part + "}", "x")
        for method in http_methods(operations):
            r = c.http.request(method.upper(), concrete, json={} if method != "get" else None)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["code"] == "forbidden"
            checked += 1
    assert checked >= 30
    # The customer-facing parts answer.
    assert c.http.get("/api/v1/loyalty").status_code == 200
    assert c.http.get("/api/v1/timeline").status_code == 200


def test_staff_timeline_and_loyalty_of_a_plain_contact_are_staff_only(platform, admin):
    r = admin.post("/api/v1/crm/contacts", json={"name": "Walk-in", "phone": "0911111111"})
    cid = r.json()["id"]
    problem(
        admin.post(
            f"/api/v1/crm/contacts/{cid}/care-actions",
            json={"care_type_id": "give-points", "value": 5},
        ),
        409,
        "not_a_customer",
    )
    r = admin.post(f"/api/v1/crm/contacts/{cid}/care-actions", json={"care_type_id": "call"})
    assert r.status_code == 201 and r.json()["care_history"][0]["action"] == "call"
    eventually(
        lambda: admin.get(f"/api/v1/crm/contacts/{cid}/timeline").json()["total"] >= 2,
        what="the contact's timeline",
        timeout=timedelta(seconds=30).total_seconds(),
    )


def test_a_write_repeated_with_its_idempotency_key_happens_once(platform, admin):
    key = {"Idempotency-Key": f"create-{uuid.uuid4().hex}"}
    body = {"name": "Once Only Ltd", "tax_code": "0399999999"}
    first = admin.post("/api/v1/crm/contacts", json=body, headers=key)
    again = admin.post("/api/v1/crm/contacts", json=body, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    found = admin.get("/api/v1/crm/contacts", params={"q": "0399999999"}).json()
    assert found["total"] == 1
    problem(
        admin.post("/api/v1/crm/contacts", json={**body, "name": "Other"}, headers=key),
        422,
        "idempotency_key_reused",
    )


def test_admins_add_care_types_and_reasons_staff_filter_them(platform, admin):
    url = platform["url"]
    member = staff_member(url, admin, "sales")
    type_id = f"zalo-{uuid.uuid4().hex[:6]}"
    problem(
        member.post(
            "/api/v1/crm/care-types", json={"id": type_id, "name": "Zalo", "action": "message"}
        ),
        403,
    )
    r = admin.post(
        "/api/v1/crm/care-types", json={"id": type_id, "name": "Zalo", "action": "message"}
    )
    assert r.status_code == 201 and r.json()["created_by"], r.text
    problem(
        admin.post(
            "/api/v1/crm/care-types", json={"id": type_id, "name": "Again", "action": "call"}
        ),
        409,
        "care_type_exists",
    )
    problem(
        admin.post("/api/v1/crm/care-types", json={"id": "x-1", "name": "Bad", "action": "hug"}),
        400,
    )
    messages = member.get("/api/v1/crm/care-types", params={"action": "message"}).json()["items"]
    assert type_id in [t["id"] for t in messages] and all(
        t["action"] == "message" for t in messages
    )
    reason_id = f"birthday-{uuid.uuid4().hex[:6]}"
    r = admin.post(
        "/api/v1/crm/care-reasons",
        json={"id": reason_id, "name": "Birthday", "care_type_id": type_id},
    )
    assert r.status_code == 201, r.text
    problem(
        admin.post(
            "/api/v1/crm/care-reasons", json={"id": "r-2", "name": "x", "care_type_id": "no-such"}
        ),
        422,
        "unknown_care_type",
    )
    reasons = member.get("/api/v1/crm/care-reasons", params={"care_type_id": type_id}).json()
    assert [x["id"] for x in reasons["items"]] == [reason_id]


def test_the_group_panel_counts_contacts_per_group_under_the_list_filters(platform, admin):
    url = platform["url"]
    member = staff_member(url, admin, "sales")
    marker = f"panel-{uuid.uuid4().hex[:6]}"
    for group in ("hot", "hot", "warm", "cold"):
        r = member.post(
            "/api/v1/crm/contacts",
            json={"name": f"{marker} {group}", "kind": "contact", "group": group},
        )
        assert r.status_code == 201, r.text
    panel = member.get("/api/v1/crm/contacts/groups", params={"q": marker}).json()
    counts = {row["group"]: row["count"] for row in panel["items"]}
    # Every group is listed, zero included, in the order of the CRM document.
    assert counts == {"new_from_ads": 0, "not_customer": 0, "cold": 1, "warm": 1, "hot": 2}
    assert panel["total"] == 4
    listed = member.get("/api/v1/crm/contacts", params={"q": marker, "group": "hot"}).json()
    assert listed["total"] == counts["hot"]  # the panel and the list agree
    # The scope applies: another member of staff holds none of them.
    other = staff_member(url, admin, "sales")
    mine = other.get("/api/v1/crm/contacts/groups", params={"q": marker, "scope": "mine"})
    assert mine.json()["total"] == 0
    problem(member.get("/api/v1/crm/contacts/groups", params={"scope": "everyone"}), 400)
    problem(member.get("/api/v1/crm/contacts/groups", params={"deleted": "true"}), 403)


def test_care_types_are_renamed_and_deleted_keeping_the_history_readable(platform, admin):
    url = platform["url"]
    c = Customer(url, wait_for_wallet=False)
    eventually(lambda: customer_row(admin, c.email), what="the customer")
    member = staff_member(url, admin, "sales")
    type_id = f"visit-{uuid.uuid4().hex[:6]}"
    r = admin.post(
        "/api/v1/crm/care-types", json={"id": type_id, "name": "Visit", "action": "call"}
    )
    assert r.status_code == 201, r.text
    r = member.post(
        f"/api/v1/crm/contacts/{c.account_id}/care-actions",
        json={"care_type_id": type_id, "note": "came by the shop"},
    )
    assert r.status_code == 201, r.text
    problem(member.patch(f"/api/v1/crm/care-types/{type_id}", json={"name": "x"}), 403)
    problem(admin.patch(f"/api/v1/crm/care-types/{type_id}", json={"action": "email"}), 400)
    r = admin.patch(f"/api/v1/crm/care-types/{type_id}", json={"name": "Shop visit"})
    assert r.status_code == 200 and r.json()["name"] == "Shop visit", r.text
    problem(admin.delete(f"/api/v1/crm/care-types/{type_id}"), 422, "confirmation_required")
    assert type_id in [t["id"] for t in member.get("/api/v1/crm/care-types").json()["items"]]
    for _ in range(2):  # deleting twice is a no-op
        r = admin.delete(f"/api/v1/crm/care-types/{type_id}", params={"confirm": "true"})
        assert r.status_code == 200 and r.json()["deleted_at"], r.text
    assert type_id not in [t["id"] for t in member.get("/api/v1/crm/care-types").json()["items"]]
    with_deleted = admin.get("/api/v1/crm/care-types", params={"deleted": "true"}).json()
    assert type_id in [t["id"] for t in with_deleted["items"]]
    problem(member.get("/api/v1/crm/care-types", params={"deleted": "true"}), 403)
    problem(
        member.post(
            f"/api/v1/crm/contacts/{c.account_id}/care-actions", json={"care_type_id": type_id}
        ),
        422,
        "care_type_deleted",
    )
    problem(admin.delete("/api/v1/crm/care-types/no-such", params={"confirm": "true"}), 404)
    # The care recorded under it is still there, under the name it had then.
    history = member.get(f"/api/v1/crm/contacts/{c.account_id}").json()["care_history"]
    assert [h["care_type_name"] for h in history if h["care_type_id"] == type_id] == ["Visit"]


def test_care_activities_are_deleted_on_confirmation_restored_by_admins_found_by_name(
    platform, admin
):
    url = platform["url"]
    member = staff_member(url, admin, "sales")
    name = f"Nguyễn Văn {uuid.uuid4().hex[:6]}"
    contact = member.post("/api/v1/crm/contacts", json={"name": name, "kind": "contact"}).json()
    due = datetime.now(UTC).replace(hour=23, minute=0, second=0, microsecond=0)
    r = member.post(
        "/api/v1/crm/care-activities",
        json={
            "contact_id": contact["id"],
            "title": "Gọi chăm sóc",
            "care_type_id": "call",
            "due_at": due.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    activity_id = r.json()["id"]

    def found(client: httpx.Client, **params: Any) -> list[str]:
        page = client.get("/api/v1/crm/care-activities", params={"q": name, **params}).json()
        return [row["id"] for row in page["items"]]

    assert found(member) == [activity_id]  # by the contact's name, not the title
    due_today = eventually(
        lambda: admin.get("/api/v1/staff/dashboard").json()["crm"]["care_activities_due_today"],
        what="due today on the staff dashboard",
    )
    path = f"/api/v1/crm/care-activities/{activity_id}"
    problem(member.delete(path), 422, "confirmation_required")
    assert found(member) == [activity_id]  # nothing changed without the confirmation
    r = member.delete(path, params={"confirm": "true"})
    assert r.status_code == 200 and r.json() == {"id": activity_id, "status": "deleted"}, r.text
    assert found(member) == []
    problem(member.get(path), 404, "activity_not_found")
    problem(member.post(f"{path}/complete"), 404)
    assert found(admin, deleted="true") == [activity_id]
    problem(member.get("/api/v1/crm/care-activities", params={"deleted": "true"}), 403)
    problem(admin.post(f"{path}/complete"), 409, "activity_deleted")
    eventually(
        lambda: (
            admin.get("/api/v1/staff/dashboard").json()["crm"]["care_activities_due_today"]
            == due_today - 1
            or None
        ),
        what="off the staff dashboard's due today",
    )
    problem(member.post(f"{path}/restore"), 403)
    r = admin.post(f"{path}/restore")
    assert r.status_code == 200 and r.json()["status"] == "planned", r.text
    assert "deleted_at" not in r.json()
    assert found(member) == [activity_id]
    r = member.post(f"{path}/complete", json={"outcome": "reached"})
    assert r.status_code == 200 and r.json()["status"] == "done", r.text


def test_the_contacts_list_is_sorted_as_asked_and_pages_without_repeats(platform, admin):
    url = platform["url"]
    member = staff_member(url, admin, "sales")
    marker = f"sort-{uuid.uuid4().hex[:6]}"
    made = {}
    for name, group in (("Đào", "cold"), ("an", "hot"), ("Bình", "hot"), ("Ánh", "warm")):
        r = member.post(
            "/api/v1/crm/contacts",
            json={"name": f"{marker} {name}", "kind": "contact", "group": group},
        )
        assert r.status_code == 201, r.text
        made[r.json()["id"]] = name

    def walk(sort: str) -> list[str]:
        seen: list[str] = []
        for offset in (0, 2, 4):
            params = {"q": marker, "sort": sort, "limit": 2, "offset": offset}
            page = member.get("/api/v1/crm/contacts", params=params)
            assert page.status_code == 200, page.text
            seen += [made[row["id"]] for row in page.json()["items"]]
        return seen

    assert walk("name") == ["an", "Ánh", "Bình", "Đào"]  # no case, no accents
    assert walk("-name") == ["Đào", "Bình", "Ánh", "an"]
    hot_first = walk("-group")
    assert hot_first[2:] == ["Ánh", "Đào"] and set(hot_first[:2]) == {"an", "Bình"}
    assert walk("-created_at") == ["Ánh", "Bình", "an", "Đào"]
    body = problem(member.get("/api/v1/crm/contacts", params={"sort": "phone"}), 400)
    assert body["code"] == "validation_error" and "sort" in str(body.get("errors")), body
    problem(member.get("/api/v1/crm/customers", params={"sort": "-_id"}), 400, "validation_error")


def test_bulk_actions_name_the_contacts_they_refused_and_staff_are_listed_to_assign(
    platform, admin
):
    url = platform["url"]
    department = f"bulk{uuid.uuid4().hex[:6]}"
    r = admin.post("/api/v1/staff/departments", json={"id": department, "name": "Bulk"})
    assert r.status_code == 201, r.text
    member = staff_member(url, admin, department)
    listed = member.get("/api/v1/staff/users", params={"department": department})
    assert listed.status_code == 200, listed.text
    assert [m["user_id"] for m in listed.json()["items"]] == [member.user_id]
    problem(Customer(url, wait_for_wallet=False).http.get("/api/v1/staff/users"), 403)
    ids = [
        member.post("/api/v1/crm/contacts", json={"name": f"Bulk {n}"}).json()["id"]
        for n in range(3)
    ]
    r = member.delete(f"/api/v1/crm/contacts/{ids[1]}", params={"confirm": "true"})
    assert r.status_code == 200, r.text
    gone = [{"id": ids[1], "code": "contact_not_found"}]
    r = member.post("/api/v1/crm/contacts/bulk/labels", json={"ids": ids, "add": ["hot"]})
    assert r.status_code == 200 and r.json() == {"updated": 2, "refused": gone}, r.text

    def assign() -> Any:
        r = member.post(
            "/api/v1/crm/contacts/bulk/assign", json={"ids": ids, "caretaker_id": member.user_id}
        )
        # The new member reaches the CRM through identity's events.
        return r.json() if r.status_code == 200 else None

    answer = eventually(assign, what="the new member known to the CRM")
    assert answer["total"] == 2 and answer["refused"] == gone, answer
    held = member.get("/api/v1/crm/contacts", params={"scope": "holding", "q": "Bulk "}).json()
    assert {ids[0], ids[2]} <= {row["id"] for row in held["items"]}
    problem(member.post("/api/v1/crm/contacts/bulk/delete", json={"ids": ids}), 422)
    r = member.post("/api/v1/crm/contacts/bulk/delete", json={"ids": ids, "confirm": True})
    assert r.status_code == 200 and r.json() == {"deleted": 2, "refused": gone}, r.text


def test_care_rows_carry_their_contacts_name_and_code(platform, admin):
    member = staff_member(platform["url"], admin, "sales")
    tag = uuid.uuid4().hex[:6]
    named = member.post(
        "/api/v1/crm/contacts", json={"name": f"Công ty {tag}", "tax_code": "0312345679"}
    ).json()
    plain = member.post("/api/v1/crm/contacts", json={"name": f"Chị Lan {tag}"}).json()
    for contact in (named, plain):
        r = member.post(
            "/api/v1/crm/care-activities",
            json={
                "contact_id": contact["id"],
                "title": f"Gọi {tag}",
                "care_type_id": "call",
                "due_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
    page = member.get("/api/v1/crm/care-activities", params={"q": f"Gọi {tag}"}).json()
    rows = {row["contact_id"]: row for row in page["items"]}
    assert rows[named["id"]]["contact_name"] == f"Công ty {tag}"
    assert rows[named["id"]]["contact_code"] == "0312345679"
    assert rows[plain["id"]]["contact_name"] == f"Chị Lan {tag}"
    assert "contact_code" not in rows[plain["id"]]  # no tax code, no code
