"""The typed answers publish exactly the keys the CRM answered before they were typed: no
key lost, none added, a key that was only sometimes there still absent (not null)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_chassis.eventstore import EventStore
from portal_chassis.web import create_app
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.identity import AccountRegistered
from portal_crm import api
from portal_crm.deps import build_deps
from portal_crm.settings import CrmSettings

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CALLERS = {
    "admin": Principal("admin-1", "platform", frozenset({"platform_admin"}), "s", "admin"),
    "sales": Principal("sales-1", "platform", frozenset({"sales", "dept:sales"}), "s", "sales"),
    "customer": Principal("owner-1", "acc-1", frozenset({"owner"}), "s", "customer"),
    "newcomer": Principal("owner-2", "acc-2", frozenset({"owner"}), "s", "newcomer"),
}
SUMMARY = {"points", "accumulated", "level", "next_level", "to_next_level", "progress_percent"}
WHY = SUMMARY | {"thresholds", "because", "level_changes"}
CONTACT = {
    "id",
    "kind",
    "status",
    "account_id",
    "general",
    "labels",
    "caretaker_id",
    "created_at",
    "portrait",
    "loyalty",
    "care_history",
    "assignments",
    "attachments",
    "comments",
}
GENERAL = {
    "party_type",
    "name",
    "organisation_size",
    "founding_date",
    "tax_code",
    "phone",
    "email",
    "owner_id",
    "unit",
    "industry",
    "source",
    "description",
    "address",
    "website",
    "group",
    "contact_persons",
}
ROW = {
    "id",
    "kind",
    "status",
    "account_id",
    "name",
    "party_type",
    "phone",
    "email",
    "tax_code",
    "group",
    "owner_id",
    "unit",
    "industry",
    "source",
    "labels",
    "caretaker_id",
    "held",
    "points",
    "accumulated",
    "level",
    "created_at",
    "updated_at",
}
ACTIVITY = {
    "id",
    "status",
    "updated_at",
    "contact_id",
    "account_id",
    "title",
    "care_type_id",
    "care_type_name",
    "action",
    "reason_id",
    "value",
    "due_at",
    "caretaker_id",
    "department",
    "note",
    "scheduled_by",
}
PAGE = {"items", "total", "limit", "offset"}
ENTRY = {"id", "account_id", "at", "context", "type", "title", "key", "params"}


class _Verifier:
    async def verify(self, token: str) -> Principal:
        return CALLERS[token]


@pytest.fixture
async def crm(mongo_db: Any, bind: Any) -> AsyncIterator[Any]:
    """The routes on the real use cases, with ids and a clock the test controls."""
    store = EventStore(mongo_db)
    await store.setup()
    ids = itertools.count(1)
    service = bind(
        build_deps(store, mongo_db, CrmSettings(), ManualClock(NOW), lambda: f"id{next(ids)}")
    )
    await service.setup()
    await service.staff.insert_one({"_id": "sales-2", "department": "sales", "active": True})
    registered = AccountRegistered(
        occurred_at=NOW,
        account_id="acc-1",
        kind="organisation",
        name="Acme",
        owner_user_id="owner-1",
        email="owner@example.com",
    )
    await service.on_account_registered(registered)
    envelope = EventEnvelope(
        id="evt-1",
        source="/portal/identity",
        type=registered.event_type,
        subject="account-acc-1",
        time=NOW,
        streamversion=1,
        tenant="acc-1",
        data=registered.model_dump(mode="json"),
    )
    await service.on_any_event(envelope, registered)
    app = create_app(
        title="crm",
        route_handlers=[
            api.ContactsController,
            api.CustomersController,
            api.CrmSettingsController,
            api.ActivitiesController,
            api.CustomerSideController,
        ],
        state={"crm": service.deps, "token_verifier": _Verifier()},
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm") as client:

        async def call(who: str, method: str, path: str, status: int, **kw: Any) -> Any:
            r = await client.request(method, path, headers={"Authorization": f"Bearer {who}"}, **kw)
            assert r.status_code == status, r.text
            return r.json()

        yield call


async def test_contact_answers_keep_their_keys(crm: Any) -> None:
    c = "/v1/crm/contacts"
    pdf = {"filename": "q.pdf", "content_base64": base64.b64encode(PDF).decode()}
    body = {"name": "ABC", "founding_date": "2020-02-03", "contact_persons": [{"name": "Ann"}]}
    created = await crm("sales", "POST", c, 201, json=body)
    cid = created["id"]
    assert set(created) == CONTACT and set(created["general"]) == GENERAL
    assert created["general"]["founding_date"] == "2020-02-03"
    assert created["general"]["contact_persons"] == [
        {"name": "Ann", "title": "", "phone": "", "email": ""}
    ]
    assert set(created["loyalty"]) == SUMMARY and created["portrait"] == {}
    detail = await crm(
        "sales", "POST", f"{c}/{cid}/comments", 201, json={"text": "hi", "attachments": [pdf]}
    )
    (comment,) = detail["comments"]
    assert set(comment) == {"id", "author_id", "text", "activity_id", "attachments", "at"}
    assert set(comment["attachments"][0]) == {"file_id", "filename", "content_type", "size"}
    detail = await crm("sales", "POST", f"{c}/{cid}/attachments", 201, json={"files": [pdf]})
    assert set(detail["attachments"][0]) == {
        *("file_id", "filename", "content_type", "size", "at", "by"),
    }
    await crm("sales", "POST", f"{c}/{cid}/convert", 200)
    money = {"care_type_id": "give-money", "value": 9}
    detail = await crm("sales", "POST", f"{c}/{cid}/care-actions", 201, json=money)
    assert set(detail["care_history"][0]) == {
        *("id", "care_type_id", "care_type_name", "action", "value", "note"),
        *("activity_id", "by", "at"),
    }
    detail = await crm(
        "sales",
        "POST",
        f"{c}/bulk/assign",
        200,
        json={"ids": [cid], "caretaker_id": "sales-2"},
    )
    assert detail == {"items": [{"id": cid, "caretaker_id": "sales-2"}], "total": 1, "refused": []}
    detail = await crm("sales", "GET", f"/v1/crm/customers/{cid}", 200)
    assert set(detail["assignments"][0]) == {
        *("caretaker_id", "method", "department", "note", "at", "by"),
    }
    page = await crm("sales", "GET", c, 200)
    assert set(page) == PAGE and all(set(row) == ROW for row in page["items"])
    assert (page["total"], page["limit"], page["offset"]) == (2, 20, 0)
    why = await crm("sales", "GET", f"{c}/{cid}/level", 200)
    assert set(why) == WHY  # the staff's why has no points history
    assert set(why["because"][0]) == {"at", "delta", "total", "source", "reference"}
    answer = await crm("sales", "DELETE", f"{c}/{cid}", 200, params={"confirm": "true"})
    assert answer == {"id": cid, "status": "deleted"}


async def test_activity_answers_leave_out_what_has_not_happened(crm: Any) -> None:
    a = "/v1/crm/care-activities"
    body = {"contact_id": "acc-1", "title": "Call", "care_type_id": "call"}
    planned = await crm("sales", "POST", a, 201, json={**body, "due_at": "2026-11-22T20:00:00Z"})
    assert set(planned) == ACTIVITY | {"comments"}  # no outcome, done_at or cancel_reason
    page = await crm("sales", "GET", a, 200, params={"scope": "today"})
    # A row carries its contact's name (no read per row); a contact without tax code, no code.
    assert set(page) == PAGE and [set(row) for row in page["items"]] == [
        ACTIVITY | {"contact_name"}
    ]
    detail = await crm("sales", "GET", f"/v1/crm/contacts/{body['contact_id']}", 200)
    assert page["items"][0]["contact_name"] == detail["general"]["name"]
    done = await crm("sales", "POST", f"{a}/{planned['id']}/complete", 200)
    assert set(done) == ACTIVITY | {"comments", "outcome", "done_at"}
    assert done["outcome"] == ""
    other = await crm("sales", "POST", a, 201, json={**body, "due_at": "2026-11-23T20:00:00Z"})
    cancelled = await crm("sales", "POST", f"{a}/{other['id']}/cancel", 200, json={"reason": "x"})
    assert set(cancelled) == ACTIVITY | {"comments", "cancel_reason"}


async def test_settings_answers_keep_their_keys(crm: Any) -> None:
    labels = await crm("sales", "GET", "/v1/crm/labels", 200)
    assert set(labels) == {"items", "total"} and set(labels["items"][0]) == {"id", "name"}
    kinds = await crm("sales", "GET", "/v1/crm/care-types", 200)
    assert set(kinds) == {"items", "total"}
    assert set(kinds["items"][0]) == {"id", "name", "action", "created_by", "created_at"}
    reason = {"id": "bday", "name": "Birthday", "care_type_id": "call"}
    added = await crm("admin", "POST", "/v1/crm/care-reasons", 201, json=reason)
    assert added == {**reason, "created_by": "admin-1"}
    levels = await crm("sales", "GET", "/v1/crm/levels", 200)
    assert set(levels) == {"items", "currency", "recompute"} and levels["recompute"] is None
    body = {"levels": [{"name": "member", "min_accumulated": 0}]}
    levels = await crm("admin", "PUT", "/v1/crm/levels", 202, json=body)
    assert set(levels["recompute"]) == {
        *("status", "customers_checked", "customers_changed", "started_at", "finished_at"),
    }


async def test_the_customer_sees_no_staff_keys(crm: Any) -> None:
    mine = await crm("customer", "GET", "/v1/loyalty", 200)
    assert set(mine) == WHY | {"points_history"}
    # Before the CRM knows the account: the summary alone, no empty history keys.
    assert set(await crm("newcomer", "GET", "/v1/loyalty", 200)) == SUMMARY
    own = await crm("customer", "GET", "/v1/timeline", 200)
    assert set(own) == PAGE and [set(e) for e in own["items"]] == [ENTRY]
    staff = await crm("sales", "GET", "/v1/crm/customers/acc-1/timeline", 200)
    assert [set(e) for e in staff["items"]] == [ENTRY | {"staff_only"}]
    assert staff["items"][0]["staff_only"] is False
