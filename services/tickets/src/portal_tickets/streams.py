"""Load and run a ticket's stream, keeping its list row current."""

from __future__ import annotations

from portal_chassis.auth import Principal
from portal_chassis.commands import Outcome
from portal_chassis.decider import NotFound
from portal_chassis.projection import upsert_if_newer
from portal_chassis.usecases import meta
from portal_contracts.events.tickets import TicketOpened, TicketReplied
from portal_tickets import domain
from portal_tickets.deps import Deps, visible
from portal_tickets.domain import Ticket


async def load_visible(deps: Deps, principal: Principal, ticket_id: str) -> Ticket:
    state, _ = await deps.runner.load(domain.stream_id(ticket_id))
    if state.status == "none" or not visible(principal, state):
        raise NotFound("ticket_not_found", "no such ticket")
    return state


async def run(
    deps: Deps,
    principal: Principal | None,
    ticket_id: str,
    command: domain.Command,
    account_id: str,
) -> Outcome[Ticket]:
    actor = principal.user_id if principal else "system"
    outcome = await deps.runner.run(
        domain.stream_id(ticket_id), command, metadata=meta(account_id, actor)
    )
    if outcome.commit is not None:
        await refresh_view(deps, outcome)
    return outcome


async def refresh_view(deps: Deps, outcome: Outcome[Ticket]) -> None:
    state = outcome.state
    events = await deps.store.read_stream(domain.stream_id(state.ticket_id))
    opened = events[0].event
    assert isinstance(opened, TicketOpened)
    public = [
        e.event for e in events if isinstance(e.event, TicketReplied) and not e.event.internal
    ]
    text = " ".join([opened.content, *(r.content for r in public)])[:20_000]
    row = {
        "account_id": state.account_id,
        "ticket_number": state.ticket_number,
        "title": state.title,
        "status": state.status,
        "department": state.department,
        "agent_id": state.agent_id,
        "priority": state.priority,
        "opened_by": opened.actor,
        "created_at": state.opened_at,
        "updated_at": events[-1].event.occurred_at,
        "response_status": "awaiting_customer"
        if state.last_public_author == "staff"
        else "awaiting_staff",
        "search_text": f"{state.title} {text}".lower(),
        "sla_breached": state.breached,
        "version": outcome.version,
        "resolved_at": state.resolved_at,
    }
    await upsert_if_newer(deps.view, state.ticket_id, outcome.version, row)
