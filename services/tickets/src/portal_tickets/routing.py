"""Staff routing a ticket: its department and agent, its priority, its status."""

from __future__ import annotations

from portal_chassis.auth import Principal
from portal_tickets import domain, queries, streams
from portal_tickets.deps import STAFF, Deps
from portal_tickets.schemas import AssignIn, PriorityIn, StatusIn, TicketOut


async def assign(deps: Deps, principal: Principal, ticket_id: str, data: AssignIn) -> TicketOut:
    STAFF.require(principal)
    return await staff_command(
        deps,
        principal,
        ticket_id,
        domain.AssignTicket(
            actor=principal.user_id,
            now=deps.clock.now(),
            department=data.department,
            agent_id=data.agent_id,
        ),
    )


async def prioritise(
    deps: Deps, principal: Principal, ticket_id: str, data: PriorityIn
) -> TicketOut:
    STAFF.require(principal)
    return await staff_command(
        deps,
        principal,
        ticket_id,
        domain.ChangePriority(
            actor=principal.user_id, now=deps.clock.now(), priority=data.priority
        ),
    )


async def set_status(deps: Deps, principal: Principal, ticket_id: str, data: StatusIn) -> TicketOut:
    STAFF.require(principal)
    return await staff_command(
        deps,
        principal,
        ticket_id,
        domain.ChangeStatus(actor=principal.user_id, now=deps.clock.now(), status=data.status),
    )


async def staff_command(
    deps: Deps, principal: Principal, ticket_id: str, command: domain.Command
) -> TicketOut:
    STAFF.require(principal)
    state = await streams.load_visible(deps, principal, ticket_id)
    if isinstance(command, domain.AssignTicket):
        await deps.departments.require(command.department)
    await streams.run(deps, principal, ticket_id, command, state.account_id)
    return await queries.get(deps, principal, ticket_id)
