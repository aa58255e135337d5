"""The conversation: replies (which move the workflow on) and the customer's rating."""

from __future__ import annotations

from datetime import timedelta

from portal_chassis.decider import Conflict, DomainError
from portal_contracts.events.tickets import TicketEvent, TicketRated, TicketReplied
from portal_tickets.domain.commands import RateTicket, ReplyToTicket
from portal_tickets.domain.state import ALLOWED, Ticket, live, status_changed

REOPEN_WINDOW = timedelta(days=7)


def reply(cmd: ReplyToTicket, state: Ticket) -> list[TicketEvent]:
    live(state, cmd.account_id if cmd.author_kind == "customer" else None)
    if state.status == "closed":
        raise Conflict("ticket_closed", "this ticket is closed; open a new one")
    if cmd.internal and cmd.author_kind != "staff":
        raise DomainError("internal_is_staff_only", "only staff write internal notes")
    if not cmd.content.strip() and not cmd.attachments:
        raise DomainError("empty_reply", "a reply needs text or an attachment")
    reply = TicketReplied(
        ticket_id=state.ticket_id,
        account_id=state.account_id,
        actor=cmd.actor,
        occurred_at=cmd.now,
        reply_id=cmd.reply_id,
        author_kind=cmd.author_kind,
        content=cmd.content,
        internal=cmd.internal,
        attachments=list(cmd.attachments),
    )
    if cmd.internal:
        return [reply]
    if cmd.author_kind == "customer":
        if state.status == "resolved":
            assert state.resolved_at is not None
            if cmd.now - state.resolved_at > REOPEN_WINDOW:
                raise Conflict(
                    "reopen_window_passed",
                    "this ticket was resolved over 7 days ago; open a new one",
                )
            return [status_changed(state, cmd.actor, cmd.now, "open", "reopened"), reply]
        if state.status == "waiting_for_customer":
            return [reply, status_changed(state, cmd.actor, cmd.now, "open", "customer_reply")]
        return [reply]
    events: list[TicketEvent] = [reply]
    target = cmd.then_status or ("in_progress" if state.status == "open" else None)
    if target and target != state.status:
        if target not in ALLOWED[state.status]:
            raise Conflict(
                "invalid_transition", f"a ticket that is {state.status} cannot become {target}"
            )
        events.append(status_changed(state, cmd.actor, cmd.now, target, "staff_reply"))
    return events


def rate_ticket(cmd: RateTicket, state: Ticket) -> list[TicketEvent]:
    live(state, cmd.account_id)
    if state.status not in ("resolved", "closed"):
        raise Conflict("not_resolved", "rate a ticket once it is resolved")
    if state.rating is not None:
        raise Conflict("already_rated", "this ticket was rated already")
    if not 1 <= cmd.rating <= 5:
        raise DomainError("invalid_rating", "the rating is from 1 to 5")
    return [
        TicketRated(
            ticket_id=state.ticket_id,
            account_id=state.account_id,
            actor=cmd.actor,
            occurred_at=cmd.now,
            rating=cmd.rating,
            comment=cmd.comment,
        )
    ]
