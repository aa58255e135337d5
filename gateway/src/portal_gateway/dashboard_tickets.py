"""The tickets part of the dashboards.

Customer: open tickets and the latest ones. Staff: tickets by status and department, SLA
breaches, and the ticket waiting longest for staff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal_chassis.auth import Principal
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.tickets import (
    TicketAssigned,
    TicketEvent,
    TicketOpened,
    TicketReplied,
    TicketSlaBreached,
    TicketStatusChanged,
)
from portal_gateway.dashboard import newest_first

LATEST = 5


def _row(rows: dict[str, Any], event: TicketEvent) -> dict[str, Any]:
    row = dict(rows.get(event.ticket_id, {}))
    match event:
        case TicketOpened():
            row.update(
                number=event.ticket_number,
                title=event.title,
                status="open",
                department=event.department,
                priority=event.priority,
                opened_at=event.occurred_at,
                waiting_since=event.occurred_at,
            )
        case TicketStatusChanged():
            row["status"] = event.status
        case TicketAssigned():
            row["department"] = event.department
        case TicketReplied() if not event.internal:
            row["waiting_since"] = event.occurred_at if event.author_kind == "customer" else None
    row["updated_at"] = event.occurred_at
    return row


class TicketsPart:
    name = "tickets"
    contexts = frozenset({"tickets"})
    staff_reads_doc = True

    async def account_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        if not isinstance(event, TicketEvent) or isinstance(event, TicketSlaBreached):
            return None
        rows = doc.get("tickets", {})
        row = {"id": event.ticket_id, **_row(rows, event)}
        latest = newest_first(row, doc.get("latest_tickets", []), key="updated_at", limit=LATEST)
        return {"$set": {f"tickets.{event.ticket_id}": _row(rows, event), "latest_tickets": latest}}

    async def staff_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        if isinstance(event, TicketSlaBreached):
            return {"$inc": {f"sla_breaches.{event.target}": 1}}
        if not isinstance(event, TicketEvent):
            return None
        row = _row(doc.get("open", {}), event)
        if row.get("status") == "closed":
            return {"$unset": {f"open.{event.ticket_id}": ""}}
        return {"$set": {f"open.{event.ticket_id}": row}}

    def render(self, doc: dict[str, Any], principal: Principal) -> dict[str, Any] | None:
        rows = doc.get("tickets", {})
        open_count = sum(1 for r in rows.values() if r.get("status") not in ("resolved", "closed"))
        return {"tickets": {"open": open_count, "latest": doc.get("latest_tickets", [])}}

    def render_staff(self, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        by_department: dict[str, int] = {}
        oldest: tuple[datetime, str] | None = None
        for ticket_id, row in doc.get("open", {}).items():
            by_status[row["status"]] = by_status.get(row["status"], 0) + 1
            by_department[row["department"]] = by_department.get(row["department"], 0) + 1
            waiting = row.get("waiting_since")
            if (
                waiting
                and row["status"] not in ("resolved", "waiting_for_customer")
                and (oldest is None or waiting < oldest[0])
            ):
                oldest = (waiting, ticket_id)
        return {
            "by_status": by_status,
            "by_department": by_department,
            "sla_breaches": doc.get("sla_breaches", {}),
            "oldest_waiting": None
            if oldest is None
            else {"id": oldest[1], "waiting_seconds": int((now - oldest[0]).total_seconds())},
        }
