"""Repairs end to end: intake -> workflow -> return, as the customer and staff see it."""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from portal_tests.e2e import Customer, admin_client, login, problem

pytestmark = pytest.mark.e2e


def intake(serial: str, **changes: Any) -> dict[str, Any]:
    body = {
        "model": "ThinkPad X1 Carbon",
        "serial": serial,
        "problem": "does not power on",
        "adapter_included": True,
        "condition": {"checklist": ["scratch on lid"], "notes": "sticker on the back"},
        "delivery_method": "drop_off",
        "delivery_date": date.today().isoformat(),
        "deliverer_name": "Nguyen Van A",
        "deliverer_contact": "0912345678",
        "branch_id": "HCM-Q1",
        "return_method": "shipping",
        "return_address": "12 Nguyen Hue, District 1, HCMC",
    }
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def technician(platform) -> httpx.Client:
    admin = admin_client(platform["url"])
    email = f"tech-{uuid.uuid4().hex[:8]}@example.com"
    r = admin.post(
        "/api/v1/staff/users",
        json={
            "email": email,
            "name": "Tech",
            "password": "tech password 1",
            "platform_roles": ["technician"],
            "department": "technical",
        },
    )
    assert r.status_code == 201, r.text
    tokens = login(platform["url"], email, "tech password 1")
    return httpx.Client(
        base_url=platform["url"],
        timeout=20,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )


def test_register_to_shipped_with_the_customer_following_every_step(platform, technician):
    customer = Customer(platform["url"], wait_for_wallet=False)
    serial = f"SN-{uuid.uuid4().hex[:8].upper()}"
    r = customer.http.post("/api/v1/repairs", json=intake(serial))
    assert r.status_code == 201, r.text
    repair = r.json()
    rid = repair["id"]
    assert repair["repair_number"].startswith("RP-") and repair["status"] == "registered"
    assert repair["warranty"] is False and len(repair["custody"]) == 1

    label = customer.http.get(f"/api/v1/repairs/{rid}/label")
    assert label.status_code == 200 and label.headers["x-content-type-options"] == "nosniff"
    assert label.text.startswith("<svg") and repair["repair_number"] in label.text

    def step(client: httpx.Client, action: str, body: dict[str, Any], status: str) -> None:
        r = client.post(f"/api/v1/repairs/{rid}/{action}", json=body)
        assert r.status_code == 200, (action, r.text)
        seen = customer.http.get(f"/api/v1/repairs/{rid}").json()
        assert seen["status"] == status, (action, seen["status"])
        last = seen["custody"][-1]
        assert last["by"] and last["branch_id"] and last["at"]
        assert [c["event"] for c in seen["custody"]] == [
            c["event"] for c in seen["custody"]
        ]  # append-only order kept
        assert len(seen["custody"]) == 1 + len(done) + 1
        done.append(action)

    done: list[str] = []
    step(
        technician,
        "receive",
        {"branch_id": "HCM-Q1", "condition": {"checklist": ["dent on corner"]}},
        "received",
    )
    custody = customer.http.get(f"/api/v1/repairs/{rid}").json()["custody"]
    assert custody[1]["condition"]["checklist"] == ["dent on corner"]
    step(technician, "diagnose", {"technician_id": "tech-1"}, "diagnosing")
    step(
        technician,
        "quote",
        {"parts": [{"description": "battery", "amount": 900_000}], "labour": 200_000},
        "quoted",
    )
    assert customer.http.get(f"/api/v1/repairs/{rid}").json()["quote"]["amount"] == 1_100_000
    problem(technician.post(f"/api/v1/repairs/{rid}/start", json={}), 409, "invalid_transition")
    step(customer.http, "approve", {}, "approved")
    step(technician, "start", {}, "repairing")
    step(technician, "ready", {}, "ready")
    step(
        technician,
        "return",
        {"method": "shipped", "carrier": "GHN", "tracking_number": "GHN123456"},
        "returned",
    )
    final = customer.http.get(f"/api/v1/repairs/{rid}").json()
    assert final["approved_amount"] == 1_100_000
    assert final["custody"][-1]["tracking_number"] == "GHN123456"

    again = customer.http.post("/api/v1/repairs", json=intake(serial.lower()))
    assert again.status_code == 201, again.text
    assert again.json()["warranty"] is True and again.json()["warranty_of"] == rid

    listed = customer.http.get("/api/v1/repairs", params={"serial": serial}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == rid
    found = technician.get("/api/v1/repairs", params={"q": repair["repair_number"]}).json()
    assert [i["id"] for i in found["items"]] == [rid]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        board = customer.dashboard()
        progress = {r["id"]: r["step"] for r in board.get("repairs_in_progress", [])}
        if progress.get(again.json()["id"]) == "registered" and rid not in progress:
            break
        time.sleep(0.3)
    assert progress == {again.json()["id"]: "registered"}
    staff_board = admin_client(platform["url"]).get("/api/v1/staff/dashboard").json()
    assert staff_board["repairs"]["by_step"].get("registered", 0) >= 1


def png() -> bytes:
    import struct
    import zlib

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


def test_condition_photos_at_intake_and_receipt(platform, technician):
    customer = Customer(platform["url"], wait_for_wallet=False)
    rid = customer.http.post("/api/v1/repairs", json=intake("SN-PHOTO")).json()["id"]
    image = png()
    r = customer.http.post(
        f"/api/v1/repairs/{rid}/photos", content=image, headers={"Content-Type": "image/png"}
    )
    assert r.status_code == 201, r.text
    photo = r.json()["custody"][-1]
    assert photo["event"] == "RepairPhotoAdded" and photo["stage"] == "intake"
    got = customer.http.get(f"/api/v1/repairs/{rid}/photos/{photo['file_id']}")
    assert got.content == image and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment")
    problem(
        customer.http.post(f"/api/v1/repairs/{rid}/photos?stage=receive", content=image),
        422,
        "stage_not_allowed",
    )
    r = technician.post(f"/api/v1/repairs/{rid}/photos?stage=receive", content=image)
    assert r.status_code == 201 and r.json()["custody"][-1]["stage"] == "receive"
    before = platform["repairs_db"]["commits"].count_documents({})
    problem(
        customer.http.post(f"/api/v1/repairs/{rid}/photos", content=b"MZ not an image"),
        415,
        "unsupported_file_type",
    )
    assert (
        customer.http.post(
            f"/api/v1/repairs/{rid}/photos", content=image + b"\x00" * (5 * 1024 * 1024)
        ).status_code
        == 413
    )
    assert platform["repairs_db"]["commits"].count_documents({}) == before
    other = Customer(platform["url"], wait_for_wallet=False)
    problem(other.http.get(f"/api/v1/repairs/{rid}/photos/{photo['file_id']}"), 404)


def test_bad_repair_input_is_refused_and_stores_nothing(platform, technician):
    customer = Customer(platform["url"], wait_for_wallet=False)
    commits = platform["repairs_db"]["commits"]
    before = commits.count_documents({})
    body = intake("SN-X")
    del body["serial"]
    problem(customer.http.post("/api/v1/repairs", json=body), 400, "validation_error")
    problem(
        customer.http.post("/api/v1/repairs", json=intake("SN-Y", branch_id="NOWHERE")),
        422,
        "unknown_branch",
    )
    problem(
        customer.http.post("/api/v1/repairs", json=intake("SN-Z", return_address=None)),
        422,
        "return_address_required",
    )
    problem(
        customer.http.post("/api/v1/repairs", json=intake("SN-Q", adapter_included="yes")),
        400,
        "validation_error",
    )
    assert commits.count_documents({}) == before

    rid = customer.http.post("/api/v1/repairs", json=intake("SN-OK")).json()["id"]
    problem(customer.http.post(f"/api/v1/repairs/{rid}/receive", json={"branch_id": "HCM-Q1"}), 403)
    problem(
        technician.post(f"/api/v1/repairs/{rid}/quote", json={"labour": 1}),
        409,
        "invalid_transition",
    )
    other = Customer(platform["url"], wait_for_wallet=False)
    problem(other.http.get(f"/api/v1/repairs/{rid}"), 404, "repair_not_found")
    problem(other.http.post(f"/api/v1/repairs/{rid}/cancel", json={}), 404)
    assert other.http.get("/api/v1/repairs").json()["total"] == 0
    r = customer.http.post(f"/api/v1/repairs/{rid}/cancel", json={"reason": "changed mind"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_staff_register_a_device_at_the_counter_for_a_customer(platform, technician):
    customer = Customer(platform["url"], wait_for_wallet=False)
    problem(technician.post("/api/v1/repairs", json=intake("SN-COUNTER")), 422, "account_required")
    r = technician.post(
        "/api/v1/repairs",
        json=intake(
            "SN-COUNTER",
            account_id=customer.account_id,
            delivery_method="drop_off",
            return_method="pickup",
            return_address=None,
        ),
    )
    assert r.status_code == 201, r.text
    mine = customer.http.get("/api/v1/repairs").json()
    assert [i["id"] for i in mine["items"]] == [r.json()["id"]]
    assert mine["items"][0]["status"] == "registered"
    problem(
        customer.http.post("/api/v1/repairs", json=intake("SN-X2", account_id="someone-else")), 403
    )
