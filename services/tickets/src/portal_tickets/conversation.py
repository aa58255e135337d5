"""The conversation on a ticket: replies (with attachments) and the customer's rating."""

from __future__ import annotations

from dataclasses import replace

from portal_chassis.auth import Principal
from portal_tickets import domain, queries, streams
from portal_tickets.deps import STAFF, Deps, check_files, store_files
from portal_tickets.schemas import RatingIn, ReplyIn, TicketOut


async def reply(deps: Deps, principal: Principal, ticket_id: str, data: ReplyIn) -> TicketOut:
    state = await streams.load_visible(deps, principal, ticket_id)
    staff = STAFF.held_by(principal)
    checked = check_files(data.attachments)
    command = domain.ReplyToTicket(
        actor=principal.user_id,
        now=deps.clock.now(),
        reply_id=deps.new_id(),
        author_kind="staff" if staff else "customer",
        content=data.content,
        account_id=None if staff else principal.account_id,
        internal=data.internal,
        then_status=data.then_status if staff else None,
    )
    domain.decide(command, state)  # refuse before storing files
    attachments = await store_files(deps, checked, state.account_id)
    await streams.run(
        deps, principal, ticket_id, replace(command, attachments=attachments), state.account_id
    )
    return await queries.get(deps, principal, ticket_id)


async def rate(deps: Deps, principal: Principal, ticket_id: str, data: RatingIn) -> TicketOut:
    state = await streams.load_visible(deps, principal, ticket_id)
    await streams.run(
        deps,
        principal,
        ticket_id,
        domain.RateTicket(
            actor=principal.user_id,
            now=deps.clock.now(),
            account_id=principal.account_id,
            rating=data.rating,
            comment=data.comment,
        ),
        state.account_id,
    )
    return await queries.get(deps, principal, ticket_id)
