"""Routing by staff: department and agent, priority, status."""

from __future__ import annotations

from portal_chassis.decider import Conflict
from portal_contracts.events.tickets import TicketAssigned, TicketEvent, TicketPriorityChanged
from portal_tickets.domain.commands import AssignTicket, ChangePriority, ChangeStatus
from portal_tickets.domain.state import ALLOWED, Ticket, live, status_changed


def assign_ticket(cmd: AssignTicket, state: Ticket) -> list[TicketEvent]:
    live(state)
    if (cmd.department, cmd.agent_id) == (state.department, state.agent_id):
        return []
    return [
        TicketAssigned(
            ticket_id=state.ticket_id,
            account_id=state.account_id,
            actor=cmd.actor,
            occurred_at=cmd.now,
            department=cmd.department,
            agent_id=cmd.agent_id,
        )
    ]


def change_priority(cmd: ChangePriority, state: Ticket) -> list[TicketEvent]:
    live(state)
    if cmd.priority == state.priority:
        return []
    return [
        TicketPriorityChanged(
            ticket_id=state.ticket_id,
            account_id=state.account_id,
            actor=cmd.actor,
            occurred_at=cmd.now,
            priority=cmd.priority,
        )
    ]


def change_status(cmd: ChangeStatus, state: Ticket) -> list[TicketEvent]:
    live(state)
    if cmd.status == state.status:
        return []
    if cmd.status not in ALLOWED[state.status]:
        raise Conflict(
            "invalid_transition",
            f"a ticket that is {state.status} cannot become {cmd.status}",
            current_status=state.status,
        )
    return [status_changed(state, cmd.actor, cmd.now, cmd.status)]
