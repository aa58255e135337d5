"""What the scheduler asks of every open ticket: close quiet resolved ones, note SLA breaches."""

from __future__ import annotations

from portal_contracts.events.tickets import TicketEvent, TicketSlaBreached
from portal_tickets.domain.commands import CheckSla, CloseIfQuiet
from portal_tickets.domain.state import Ticket, sla, status_changed


def close_if_quiet(cmd: CloseIfQuiet, state: Ticket) -> list[TicketEvent]:
    if (
        state.status == "resolved"
        and state.resolved_at is not None
        and (cmd.now - state.resolved_at >= cmd.quiet_period)
    ):
        return [status_changed(state, cmd.actor, cmd.now, "closed", "auto_close")]
    return []


def check_sla(cmd: CheckSla, state: Ticket) -> list[TicketEvent]:
    if state.status in ("none", "closed"):
        return []
    view = sla(state, cmd.policy, cmd.now)
    due = {"first_response": view.first_response_due, "resolution": state.opened_at}
    events: list[TicketEvent] = []
    for target, breached in (
        ("first_response", view.first_response_breached),
        ("resolution", view.resolution_breached),
    ):
        if breached and target not in state.breached:
            at = (
                due[target]
                if target == "first_response"
                else (cmd.now - (view.resolution_elapsed - view.resolution_target))
            )
            assert at is not None
            events.append(
                TicketSlaBreached(
                    ticket_id=state.ticket_id,
                    account_id=state.account_id,
                    actor="system:sla",
                    occurred_at=cmd.now,
                    target=target,
                    due_at=at,
                )
            )  # type: ignore[arg-type]
    return events
