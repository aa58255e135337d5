"""Opening a ticket."""

from __future__ import annotations

from portal_chassis.decider import DomainError
from portal_contracts.events.tickets import TicketEvent, TicketOpened
from portal_tickets.domain.commands import OpenTicket
from portal_tickets.domain.state import Ticket


def open_ticket(cmd: OpenTicket, state: Ticket) -> list[TicketEvent]:
    if state.status != "none":
        return []
    if not cmd.title.strip():
        raise DomainError("title_required", "a ticket needs a title")
    return [
        TicketOpened(
            ticket_id=cmd.ticket_id,
            account_id=cmd.account_id,
            actor=cmd.actor,
            occurred_at=cmd.now,
            ticket_number=cmd.ticket_number,
            department=cmd.department,
            title=cmd.title.strip(),
            request_type=cmd.request_type,
            priority=cmd.priority,
            content=cmd.content,
            related_code=cmd.related_code,
            opened_by_staff=cmd.opened_by_staff,
            attachments=list(cmd.attachments),
        )
    ]
