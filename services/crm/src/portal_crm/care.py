"""Care: care types and reasons, care actions on a contact, scheduled care activities."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from portal_chassis.auth import Principal
from portal_chassis.contract import Page, paginate
from portal_chassis.decider import Conflict, DomainError, NotFound
from portal_contracts.events.crm import CommentAdded
from portal_crm import domain, queries
from portal_crm.contacts import comment
from portal_crm.deps import ADMINS, STAFF, Deps, current_levels
from portal_crm.domain import Activity
from portal_crm.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityRowOut,
    CareActionIn,
    CareReasonIn,
    CareReasonOut,
    CareReasonsOut,
    CareTypeIn,
    CareTypeOut,
    CareTypePatch,
    CareTypesOut,
    CommentIn,
    ContactOut,
    DeletedOut,
)
from portal_crm.streams import load_activity, load_contact, run_activity, run_contact

CONTACTS_SEARCHED = 500
"""A search by contact name looks at this many matching contacts' activities at most."""


async def _care_type(deps: Deps, care_type_id: str) -> dict[str, Any]:
    """A care type still offered: a deleted one names old history only."""
    care_type = await deps.care_types.find_one({"_id": care_type_id})
    if care_type is None:
        raise DomainError("unknown_care_type", f"no care type {care_type_id!r}")
    if care_type.get("deleted_at"):
        raise DomainError("care_type_deleted", f"care type {care_type_id!r} was deleted")
    return care_type


def _care_type_out(doc: dict[str, Any]) -> CareTypeOut:
    return CareTypeOut.model_validate({"id": doc.pop("_id"), **doc})


async def record_care_action(
    deps: Deps, principal: Principal, contact_id: str, data: CareActionIn
) -> ContactOut:
    STAFF.require(principal)
    await load_contact(deps, contact_id)
    care_type = await _care_type(deps, data.care_type_id)
    await run_contact(
        deps,
        contact_id,
        domain.RecordCareAction(
            now=deps.clock.now(),
            actor=principal.user_id,
            action_id=deps.new_id(),
            care_type_id=care_type["_id"],
            care_type_name=care_type["name"],
            action=care_type["action"],
            value=data.value,
            note=data.note,
            levels=await current_levels(deps),
        ),
        principal.user_id,
    )
    return await queries.contact(deps, principal, contact_id)


async def add_care_type(deps: Deps, principal: Principal, data: CareTypeIn) -> CareTypeOut:
    ADMINS.require(principal)
    doc = {
        "name": data.name,
        "action": data.action,
        "created_by": principal.user_id,
        "created_at": deps.clock.now(),
    }
    try:
        await deps.care_types.insert_one({"_id": data.id, **doc})
    except DuplicateKeyError:
        raise Conflict("care_type_exists", f"care type {data.id!r} exists") from None
    return CareTypeOut.model_validate({"id": data.id, **doc})


async def rename_care_type(
    deps: Deps, principal: Principal, care_type_id: str, data: CareTypePatch
) -> CareTypeOut:
    """A new name for what is offered from now on; what was recorded keeps the name it
    had (the events carry it)."""
    ADMINS.require(principal)
    await _care_type(deps, care_type_id)
    done = await deps.care_types.find_one_and_update(
        {"_id": care_type_id},
        {"$set": {"name": data.name, "updated_at": deps.clock.now()}},
        return_document=ReturnDocument.AFTER,
    )
    assert done is not None
    return _care_type_out(done)


async def delete_care_type(
    deps: Deps, principal: Principal, care_type_id: str, confirm: bool
) -> CareTypeOut:
    """Soft: no longer offered for new care, still listed for admins and named in the
    history of every contact and activity that used it. Deleting twice is a no-op."""
    ADMINS.require(principal)
    if not confirm:
        raise DomainError("confirmation_required", "confirm the deletion with confirm=true")
    now = deps.clock.now()
    await deps.care_types.update_one(
        {"_id": care_type_id, "deleted_at": None},
        {"$set": {"deleted_at": now, "deleted_by": principal.user_id}},
    )
    doc = await deps.care_types.find_one({"_id": care_type_id})
    if doc is None:
        raise NotFound("care_type_not_found", f"no care type {care_type_id!r}")
    return _care_type_out(doc)


async def add_care_reason(deps: Deps, principal: Principal, data: CareReasonIn) -> CareReasonOut:
    ADMINS.require(principal)
    await _care_type(deps, data.care_type_id)
    doc = {
        "name": data.name,
        "care_type_id": data.care_type_id,
        "created_by": principal.user_id,
    }
    try:
        await deps.care_reasons.insert_one({"_id": data.id, **doc})
    except DuplicateKeyError:
        raise Conflict("care_reason_exists", f"care reason {data.id!r} exists") from None
    return CareReasonOut.model_validate({"id": data.id, **doc})


async def schedule(deps: Deps, principal: Principal, data: ActivityIn) -> ActivityOut:
    STAFF.require(principal)
    contact = await load_contact(deps, data.contact_id)
    care_type = await _care_type(deps, data.care_type_id)
    if data.reason_id:
        reason = await deps.care_reasons.find_one({"_id": data.reason_id})
        if reason is None or reason["care_type_id"] != care_type["_id"]:
            raise DomainError("unknown_care_reason", "no such reason for this care type")
    caretaker = data.caretaker_id or principal.user_id
    activity_id = deps.new_id()
    await run_activity(
        deps,
        activity_id,
        domain.ScheduleActivity(
            now=deps.clock.now(),
            actor=principal.user_id,
            activity_id=activity_id,
            contact_id=contact.contact_id,
            account_id=contact.account_id,
            title=data.title,
            care_type_id=care_type["_id"],
            care_type_name=care_type["name"],
            action=care_type["action"],
            due_at=data.due_at,
            caretaker_id=caretaker,
            reason_id=data.reason_id,
            value=data.value,
            department=data.department or principal.department,
            note=data.note,
        ),
        contact.account_id,
        principal.user_id,
    )
    return await activity(deps, principal, activity_id)


async def delete_activity(
    deps: Deps, principal: Principal, activity_id: str, confirm: bool
) -> DeletedOut:
    """Soft and confirmed: off every list; admins see it among the deleted and restore it."""
    STAFF.require(principal)
    if not confirm:
        raise DomainError("confirmation_required", "confirm the deletion with confirm=true")
    state = await _visible_activity(deps, principal, activity_id)
    await run_activity(
        deps,
        activity_id,
        domain.DeleteActivity(now=deps.clock.now(), actor=principal.user_id),
        state.account_id,
        principal.user_id,
    )
    return DeletedOut(id=activity_id, status="deleted")


async def restore_activity(deps: Deps, principal: Principal, activity_id: str) -> ActivityOut:
    ADMINS.require(principal)
    state = await load_activity(deps, activity_id)
    await run_activity(
        deps,
        activity_id,
        domain.RestoreActivity(now=deps.clock.now(), actor=principal.user_id),
        state.account_id,
        principal.user_id,
    )
    return await activity(deps, principal, activity_id)


async def _visible_activity(deps: Deps, principal: Principal, activity_id: str) -> Activity:
    """The activity, unless it is deleted and the caller is not an admin (then: not found)."""
    state = await load_activity(deps, activity_id)
    if state.deleted and not ADMINS.held_by(principal):
        raise NotFound("activity_not_found", "no such care activity")
    return state


async def complete(deps: Deps, principal: Principal, activity_id: str, outcome: str) -> ActivityOut:
    """Done: a point or money action is recorded on the customer (once, keyed by the id)."""
    STAFF.require(principal)
    state = await _visible_activity(deps, principal, activity_id)
    if state.status == "planned" and not state.deleted:
        row = await deps.activities_view.find_one({"_id": activity_id}) or {}
        await run_contact(
            deps,
            state.contact_id,
            domain.RecordCareAction(
                now=deps.clock.now(),
                actor=principal.user_id,
                action_id=activity_id,
                care_type_id=row.get("care_type_id", ""),
                care_type_name=row.get("care_type_name", ""),
                action=state.action,
                value=state.value,
                note=outcome,
                activity_id=activity_id,
                levels=await current_levels(deps),
            ),
            principal.user_id,
        )
    await run_activity(
        deps,
        activity_id,
        domain.CompleteActivity(now=deps.clock.now(), actor=principal.user_id, outcome=outcome),
        state.account_id,
        principal.user_id,
    )
    return await activity(deps, principal, activity_id)


async def cancel(deps: Deps, principal: Principal, activity_id: str, reason: str) -> ActivityOut:
    STAFF.require(principal)
    state = await _visible_activity(deps, principal, activity_id)
    await run_activity(
        deps,
        activity_id,
        domain.CancelActivity(now=deps.clock.now(), actor=principal.user_id, reason=reason),
        state.account_id,
        principal.user_id,
    )
    return await activity(deps, principal, activity_id)


async def comment_activity(
    deps: Deps, principal: Principal, activity_id: str, data: CommentIn
) -> ActivityOut:
    state = await _visible_activity(deps, principal, activity_id)
    if state.deleted:
        raise Conflict("activity_deleted", "a deleted activity is restored before it changes")
    await comment(deps, principal, state.contact_id, data, activity_id=activity_id)
    return await activity(deps, principal, activity_id)


async def activity(deps: Deps, principal: Principal, activity_id: str) -> ActivityOut:
    STAFF.require(principal)
    await _visible_activity(deps, principal, activity_id)
    row = await deps.activities_view.find_one({"_id": activity_id})
    assert row is not None
    row["id"] = row.pop("_id")
    row.pop("version", None)
    contact = await load_contact(deps, row["contact_id"], deleted_ok=True)
    events = await deps.store.read_stream(domain.contact_stream(contact.contact_id))
    row["comments"] = [
        {
            "id": e.event.comment_id,
            "text": e.event.text,
            "author_id": e.event.author_id,
            "at": e.event.occurred_at,
        }
        for e in events
        if isinstance(e.event, CommentAdded) and e.event.activity_id == activity_id
    ]
    return ActivityOut.model_validate(row)


async def list_activities(
    deps: Deps,
    principal: Principal,
    *,
    scope: str,
    status: str | None,
    q: str | None,
    limit: int,
    offset: int,
    deleted: bool = False,
) -> Page[ActivityRowOut]:
    STAFF.require(principal)
    if deleted:
        ADMINS.require(principal)
    # Rows written before deletion existed have no `deleted_at`: null matches them too.
    query: dict[str, Any] = {"deleted_at": {"$ne": None} if deleted else None}
    if status:
        query["status"] = status
    if scope == "mine":
        query["caretaker_id"] = principal.user_id
    elif scope == "my_department":
        query["department"] = principal.department or "-"
    elif scope == "today":
        start = deps.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        query["due_at"] = {"$gte": start, "$lt": start + timedelta(days=1)}
    if q:
        # The title, or the name of the contact cared for (the CRM document searches both).
        pattern = {"$regex": re.escape(q.strip()), "$options": "i"}
        named = deps.contacts_view.find({"name": pattern}, {"_id": 1}).limit(CONTACTS_SEARCHED)
        contact_ids = [row["_id"] async for row in named]
        query["$or"] = [{"title": pattern}, {"contact_id": {"$in": contact_ids}}]
    total = await deps.activities_view.count_documents(query)
    cursor = deps.activities_view.find(query).sort("due_at", 1).skip(offset).limit(limit)
    rows = [row async for row in cursor]
    # The contacts' names for the whole page in one read, not one per row.
    contact_ids = list({row["contact_id"] for row in rows})
    named = deps.contacts_view.find({"_id": {"$in": contact_ids}}, {"name": 1, "tax_code": 1})
    contacts = {c["_id"]: c async for c in named}
    items = []
    for row in rows:
        row["id"] = row.pop("_id")
        contact = contacts.get(row["contact_id"], {})
        row["contact_name"] = contact.get("name")
        row["contact_code"] = contact.get("tax_code") or None
        items.append(ActivityRowOut.model_validate(row))
    return paginate(items, total, limit, offset)


async def list_care_types(
    deps: Deps, principal: Principal, action: str | None, q: str | None, deleted: bool = False
) -> CareTypesOut:
    """The care types offered; with `deleted` (admins), the deleted ones too."""
    STAFF.require(principal)
    if deleted:
        ADMINS.require(principal)
    query: dict[str, Any] = {} if deleted else {"deleted_at": None}
    if action:
        query["action"] = action
    if q:
        query["name"] = {"$regex": re.escape(q), "$options": "i"}
    items = [_care_type_out(d) async for d in deps.care_types.find(query).sort("created_at", 1)]
    return CareTypesOut(items=items, total=len(items))


async def list_care_reasons(
    deps: Deps, principal: Principal, care_type_id: str | None
) -> CareReasonsOut:
    STAFF.require(principal)
    query = {"care_type_id": care_type_id} if care_type_id else {}
    items = [{"id": d.pop("_id"), **d} async for d in deps.care_reasons.find(query).sort("_id", 1)]
    return CareReasonsOut.model_validate({"items": items, "total": len(items)})
