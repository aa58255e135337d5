"""Read use cases: a ticket with its conversation, its attachments, the list, departments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pymongo import DESCENDING

from portal_chassis.auth import Principal
from portal_chassis.contract import Page, paginate
from portal_chassis.decider import NotFound
from portal_contracts.events.tickets import Attachment, TicketOpened, TicketReplied
from portal_tickets import domain, streams
from portal_tickets.deps import STAFF, Deps, staff_department
from portal_tickets.schemas import (
    DepartmentIn,
    DepartmentOut,
    DepartmentsOut,
    RepliesOut,
    TicketOut,
    TicketRowOut,
)


@dataclass(frozen=True)
class AttachmentFile:
    """A stored attachment to download: its type, the name to offer it as, its bytes."""

    content_type: str
    display_name: str
    data: bytes


async def get(deps: Deps, principal: Principal, ticket_id: str) -> TicketOut:
    state = await streams.load_visible(deps, principal, ticket_id)
    staff = STAFF.held_by(principal)
    events = await deps.store.read_stream(domain.stream_id(ticket_id))
    opened = events[0].event
    assert isinstance(opened, TicketOpened)
    messages = [
        {
            "id": "opening",
            "author_kind": "staff" if opened.opened_by_staff else "customer",
            "author": opened.actor,
            "content": opened.content,
            "at": opened.occurred_at,
            "internal": False,
            "attachments": _attachments(opened.attachments),
        }
    ]
    for stored in events:
        e = stored.event
        if isinstance(e, TicketReplied) and (staff or not e.internal):
            messages.append(
                {
                    "id": e.reply_id,
                    "author_kind": e.author_kind,
                    "author": e.actor,
                    "content": e.content,
                    "at": e.occurred_at,
                    "internal": e.internal,
                    "attachments": _attachments(e.attachments),
                }
            )
    view = domain.sla(state, deps.policy, deps.clock.now())
    return TicketOut.model_validate(
        {
            "id": state.ticket_id,
            "ticket_number": state.ticket_number,
            "account_id": state.account_id,
            "title": state.title,
            "status": state.status,
            "department": state.department,
            "agent_id": state.agent_id,
            "priority": state.priority,
            "request_type": opened.request_type,
            "related_code": opened.related_code,
            "created_at": state.opened_at,
            "response_status": "awaiting_customer"
            if state.last_public_author == "staff"
            else "awaiting_staff",
            "rating": state.rating,
            "sla": {
                "first_response_due": view.first_response_due,
                "first_response_at": view.first_response_at,
                "first_response_breached": view.first_response_breached,
                "resolution_elapsed_seconds": int(view.resolution_elapsed.total_seconds()),
                "resolution_due": view.resolution_due,
                "resolution_breached": view.resolution_breached,
                "paused": view.paused,
            },
            "messages": messages,
        }
    )


async def replies(deps: Deps, principal: Principal, ticket_id: str) -> RepliesOut:
    ticket = await get(deps, principal, ticket_id)
    items = ticket.messages[1:]
    return RepliesOut(items=items, total=len(items))


async def attachment(
    deps: Deps, principal: Principal, ticket_id: str, file_id: str
) -> AttachmentFile:
    ticket = await get(deps, principal, ticket_id)  # internal notes already filtered
    visible = {a.file_id: a for m in ticket.messages for a in m.attachments}
    shown = visible.get(file_id)
    found = await deps.blobs.get(file_id, ticket.account_id) if shown else None
    if shown is None or found is None:
        raise NotFound("attachment_not_found", "no such attachment")
    stored, data = found
    return AttachmentFile(stored.content_type, shown.display_name, data)


async def departments_listing(deps: Deps) -> DepartmentsOut:
    return DepartmentsOut.model_validate(await deps.departments.listing())


async def add_department(deps: Deps, principal: Principal, data: DepartmentIn) -> DepartmentOut:
    return DepartmentOut.model_validate(await deps.departments.put(principal, data.id, data.name))


async def list_tickets(
    deps: Deps,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    filters: dict[str, Any],
    q: str | None,
    mine: bool,
    unassigned: bool,
    my_department: bool = False,
) -> Page[TicketRowOut]:
    query: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if not STAFF.held_by(principal):
        query["account_id"] = principal.account_id
        if mine:
            query["opened_by"] = principal.user_id
    elif (own := staff_department(principal)) is not None:
        query["department"] = own
    elif mine:
        query["agent_id"] = principal.user_id
    if my_department and STAFF.held_by(principal):
        query["department"] = principal.department or "-"
    if unassigned:
        query["agent_id"] = None
    if q:
        # The number too: staff look a ticket up by the number the customer quotes (rows
        # written before this have no number in their search text, so it is its own field).
        query["$or"] = [
            {"ticket_number": {"$regex": re.escape(q.strip().upper())}},
            {"search_text": {"$regex": re.escape(q.strip().lower())}},
        ]
    total = await deps.view.count_documents(query)
    items = []
    cursor = (
        deps.view.find(query, projection={"search_text": 0, "version": 0})
        .sort([("created_at", DESCENDING)])
        .skip(offset)
        .limit(limit)
    )
    async for row in cursor:
        row["id"] = row.pop("_id")
        items.append(TicketRowOut.model_validate(row))
    return paginate(items, total, limit, offset)


def _attachments(attachments: tuple[Attachment, ...]) -> list[dict[str, Any]]:
    # Attachments stored before the sent name was kept show their storage name.
    return [{**a.model_dump(), "display_name": a.display_name or a.filename} for a in attachments]
