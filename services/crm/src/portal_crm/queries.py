"""Read use cases: contact and customer details, lists, loyalty, activities, timelines."""

from __future__ import annotations

import re
from typing import Any, get_args

from pymongo import DESCENDING

from portal_chassis.auth import Principal
from portal_chassis.contract import Page, paginate
from portal_chassis.decider import NotFound
from portal_contracts.events.crm import (
    AccumulatedMoneyChanged,
    CareActionRecorded,
    CommentAdded,
    ContactCreated,
    ContactGroup,
    CustomerLevelChanged,
    DocumentAttached,
    LeadAssigned,
    PointsChanged,
)
from portal_crm import domain, sorting
from portal_crm.deps import ADMINS, STAFF, Deps, current_levels
from portal_crm.domain import Contact, Level
from portal_crm.schemas import (
    ContactOut,
    ContactRowOut,
    GroupCountOut,
    GroupCountsOut,
    LabelsOut,
    LoyaltyOut,
    TimelineEntryOut,
)
from portal_crm.streams import load_contact


async def contact(deps: Deps, principal: Principal, contact_id: str) -> ContactOut:
    STAFF.require(principal)
    state = await load_contact(deps, contact_id, deleted_ok=ADMINS.held_by(principal))
    events = await deps.store.read_stream(domain.contact_stream(contact_id))
    assert state.details is not None
    comments, documents, care, assignments = [], [], [], []
    created_at = None
    for stored in events:
        e = stored.event
        if isinstance(e, ContactCreated):
            created_at = e.occurred_at
        elif isinstance(e, CommentAdded):
            comments.append(
                {
                    "id": e.comment_id,
                    "author_id": e.author_id,
                    "text": e.text,
                    "activity_id": e.activity_id,
                    "attachments": [f.model_dump() for f in e.attachments],
                    "at": e.occurred_at,
                }
            )
        elif isinstance(e, DocumentAttached):
            documents.append({**e.file.model_dump(), "at": e.occurred_at, "by": e.attached_by})
        elif isinstance(e, CareActionRecorded):
            care.append(care_row(e))
        elif isinstance(e, LeadAssigned):
            assignments.append(
                {
                    "caretaker_id": e.caretaker_id,
                    "method": e.method,
                    "department": e.department,
                    "note": e.note,
                    "at": e.occurred_at,
                    "by": e.assigned_by,
                }
            )
    levels = await current_levels(deps)
    return ContactOut.model_validate(
        {
            "id": contact_id,
            "kind": state.kind,
            "status": state.status,
            "account_id": state.account_id,
            "general": state.details.model_dump(mode="json"),
            "labels": list(state.labels),
            "caretaker_id": state.caretaker_id,
            "created_at": created_at,
            "portrait": state.portrait,
            "loyalty": loyalty_summary(state, levels),
            "care_history": list(reversed(care)),
            "assignments": assignments,
            "attachments": documents,
            "comments": list(reversed(comments)),
        }
    )


async def customer(deps: Deps, principal: Principal, contact_id: str) -> ContactOut:
    """A contact of kind customer (a plain contact is not found here)."""
    found = await contact(deps, principal, contact_id)
    if found.kind != "customer":
        raise NotFound("customer_not_found", "no such customer")
    return found


async def _contacts_query(
    deps: Deps,
    principal: Principal,
    *,
    kind: str | None,
    scope: str,
    label: str | None,
    q: str | None,
    deleted: bool,
    level: str | None,
) -> dict[str, Any]:
    """The filter of the contacts list (and its group panel) for this caller."""
    STAFF.require(principal)
    if deleted:
        ADMINS.require(principal)
    if label:
        await deps.labels.require(label)
    query: dict[str, Any] = {"status": "deleted" if deleted else "active"}
    if level:
        query["level"] = level
    if kind:
        query["kind"] = kind
    if label:
        query["labels"] = label
    if scope == "mine":
        query["owner_id"] = principal.user_id
    elif scope == "holding":
        query["caretaker_id"] = principal.user_id
    elif scope == "my_department":
        query["unit"] = principal.department or "-"
    elif scope == "unassigned_lead":
        query["kind"] = "contact"
        query["held"] = False
    if q:
        pattern = {"$regex": re.escape(q.strip()), "$options": "i"}
        query["$or"] = [{f: pattern} for f in ("name", "phone", "email", "tax_code")]
    return query


async def list_contacts(
    deps: Deps,
    principal: Principal,
    *,
    kind: str | None,
    group: str | None,
    scope: str,
    label: str | None,
    q: str | None,
    deleted: bool,
    limit: int,
    offset: int,
    level: str | None = None,
    sort: sorting.ContactSort = sorting.DEFAULT_SORT,
) -> Page[ContactRowOut]:
    query = await _contacts_query(
        deps, principal, kind=kind, scope=scope, label=label, q=q, deleted=deleted, level=level
    )
    if group:
        query["group"] = group
    total = await deps.contacts_view.count_documents(query)
    cursor = deps.contacts_view.find(query).sort(sorting.order(sort)).skip(offset).limit(limit)
    items = []
    async for row in cursor:
        row["id"] = row.pop("_id")
        items.append(ContactRowOut.model_validate(row))
    return paginate(items, total, limit, offset)


async def group_counts(
    deps: Deps,
    principal: Principal,
    *,
    kind: str | None,
    scope: str,
    label: str | None,
    q: str | None,
    deleted: bool,
) -> GroupCountsOut:
    """The group panel beside the list: how many contacts of each group the same filters
    (scope, kind, label, search) find, every group listed, zero included."""
    query = await _contacts_query(
        deps, principal, kind=kind, scope=scope, label=label, q=q, deleted=deleted, level=None
    )
    counts = {
        group: await deps.contacts_view.count_documents({**query, "group": group})
        for group in get_args(ContactGroup)
    }
    return GroupCountsOut(
        items=[GroupCountOut(group=g, count=n) for g, n in counts.items()],
        total=sum(counts.values()),
    )


async def why_level(deps: Deps, principal: Principal, contact_id: str) -> LoyaltyOut:
    STAFF.require(principal)
    return LoyaltyOut.model_validate(await _why(deps, await load_contact(deps, contact_id)))


async def _why(deps: Deps, state: Contact) -> dict[str, Any]:
    events = await deps.store.read_stream(domain.contact_stream(state.contact_id))
    levels = await current_levels(deps)
    behind = [
        {
            "at": s.event.occurred_at,
            "delta": s.event.delta,
            "total": s.event.total,
            "source": s.event.source,
            "reference": s.event.reference,
        }
        for s in events
        if isinstance(s.event, AccumulatedMoneyChanged)
    ]
    changes = [
        {
            "at": s.event.occurred_at,
            "from": s.event.from_level,
            "to": s.event.to_level,
            "reason": s.event.reason,
        }
        for s in events
        if isinstance(s.event, CustomerLevelChanged)
    ]
    return {
        **loyalty_summary(state, levels),
        "thresholds": [{"name": lv.name, "min_accumulated": lv.min_accumulated} for lv in levels],
        "because": list(reversed(behind)),
        "level_changes": list(reversed(changes)),
    }


async def loyalty(deps: Deps, principal: Principal) -> LoyaltyOut:
    """The customer-facing summary: points, level and the way to the next one."""
    state, _ = await deps.contacts.load(domain.contact_stream(principal.account_id))
    if state.status != "active":
        levels = await current_levels(deps)
        summary = loyalty_summary(Contact(kind="customer", level=levels[0].name), levels)
        return LoyaltyOut.model_validate(summary)
    points_history = [
        {"at": s.event.occurred_at, "delta": s.event.delta, "balance": s.event.balance}
        for s in await deps.store.read_stream(domain.contact_stream(principal.account_id))
        if isinstance(s.event, PointsChanged)
    ]
    why = await _why(deps, state)
    return LoyaltyOut.model_validate({**why, "points_history": points_history[::-1]})


async def list_labels(deps: Deps, principal: Principal) -> LabelsOut:
    STAFF.require(principal)
    return LabelsOut.model_validate(await deps.labels.listing())


async def timeline_of(
    deps: Deps,
    account_id: str,
    limit: int,
    offset: int,
    *,
    staff: bool = False,
    context: str | None = None,
) -> Page[TimelineEntryOut]:
    """Newest first; `context` narrows it to one context's entries (wallet, tickets...)."""
    query: dict[str, Any] = {"account_id": account_id}
    if context:
        query["context"] = context
    if not staff:
        query["staff_only"] = False
    total = await deps.timeline.count_documents(query)
    cursor = deps.timeline.find(query).sort("at", DESCENDING).skip(offset).limit(limit)
    items = []
    async for row in cursor:
        row["id"] = row.pop("_id")
        if not staff:
            row.pop("staff_only", None)
        items.append(TimelineEntryOut.model_validate(row))
    return paginate(items, total, limit, offset)


async def contact_timeline(
    deps: Deps,
    principal: Principal,
    contact_id: str,
    limit: int,
    offset: int,
    *,
    context: str | None = None,
) -> Page[TimelineEntryOut]:
    STAFF.require(principal)
    state = await load_contact(deps, contact_id)
    return await timeline_of(
        deps, state.account_id or contact_id, limit, offset, staff=True, context=context
    )


def care_row(e: CareActionRecorded) -> dict[str, Any]:
    return {
        "id": e.action_id,
        "care_type_id": e.care_type_id,
        "care_type_name": e.care_type_name,
        "action": e.action,
        "value": e.value,
        "note": e.note,
        "activity_id": e.activity_id,
        "by": e.recorded_by,
        "at": e.occurred_at,
    }


def loyalty_summary(state: Contact, levels: tuple[Level, ...]) -> dict[str, Any]:
    level = state.level or domain.level_for(state.accumulated, levels)
    upcoming = domain.next_level(state.accumulated, levels)
    current_min = next((lv.min_accumulated for lv in levels if lv.name == level), 0)
    progress = 100
    if upcoming is not None:
        span = upcoming.min_accumulated - current_min
        progress = max(0, min(100, (state.accumulated - current_min) * 100 // span)) if span else 0
    return {
        "points": state.points,
        "accumulated": state.accumulated,
        "level": level,
        "next_level": upcoming.name if upcoming else None,
        "to_next_level": upcoming.min_accumulated - state.accumulated if upcoming else 0,
        "progress_percent": progress,
    }
