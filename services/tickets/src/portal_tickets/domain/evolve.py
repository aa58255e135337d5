"""How each event changes a ticket (its SLA clocks pause and resume with its status)."""

from __future__ import annotations

from datetime import datetime

from portal_contracts.events.tickets import (
    TicketAssigned,
    TicketEvent,
    TicketOpened,
    TicketPriorityChanged,
    TicketRated,
    TicketReplied,
    TicketSlaBreached,
    TicketStatusChanged,
)
from portal_tickets.domain.state import PAUSED, Ticket


def _pause(state: Ticket, at: datetime) -> dict[str, object]:
    if state.clock_started_at is None:
        return {}
    return {
        "clock_seconds": state.clock_seconds + (at - state.clock_started_at).total_seconds(),
        "clock_started_at": None,
    }


def evolve(state: Ticket, event: TicketEvent) -> Ticket:
    match event:
        case TicketOpened():
            return Ticket(
                status="open",
                ticket_id=event.ticket_id,
                ticket_number=event.ticket_number,
                account_id=event.account_id,
                department=event.department,
                priority=event.priority,
                title=event.title,
                opened_at=event.occurred_at,
                clock_started_at=event.occurred_at,
            )
        case TicketReplied():
            if event.internal:
                return state
            update: dict[str, object] = {"last_public_author": event.author_kind}
            if event.author_kind == "staff" and state.first_response_at is None:
                update["first_response_at"] = event.occurred_at
            return state.model_copy(update=update)
        case TicketAssigned():
            return state.model_copy(
                update={"department": event.department, "agent_id": event.agent_id}
            )
        case TicketPriorityChanged():
            return state.model_copy(update={"priority": event.priority})
        case TicketStatusChanged():
            update = {"status": event.status}
            if event.status in PAUSED:
                update.update(_pause(state, event.occurred_at))
            elif state.clock_started_at is None:
                update["clock_started_at"] = event.occurred_at
            if event.status == "resolved":
                update["resolved_at"] = event.occurred_at
            elif event.status == "open":
                update["resolved_at"] = None
            return state.model_copy(update=update)
        case TicketRated():
            return state.model_copy(update={"rating": event.rating})
        case TicketSlaBreached():
            return state.model_copy(update={"breached": [*state.breached, event.target]})
    return state
