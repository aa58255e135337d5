"""The ticket aggregate (stream `ticket-<id>`): conversation, workflow and SLA clocks.

Pure code. The SLA clocks are folded from the ticket's own events into a few
policy-independent accumulators (when the first public staff reply came, how long the
resolution clock has run), so any policy can be applied to them later: a changed policy
is recomputed from history, not from stored deadlines.

Not repeating Zammad #1322 / #3140: the resolution clock pauses while the ticket waits
for the customer and resumes when the customer replies; the first-response target is met
only by a public staff reply (internal notes do not count), and customer follow-ups
never reset it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.tickets import (
    Attachment,
    Priority,
    TicketAssigned,
    TicketEvent,
    TicketOpened,
    TicketPriorityChanged,
    TicketRated,
    TicketReplied,
    TicketSlaBreached,
    TicketStatus,
    TicketStatusChanged,
)

REOPEN_WINDOW = timedelta(days=7)
PAUSED = frozenset({"waiting_for_customer", "resolved", "closed"})
ALLOWED: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "waiting_for_customer", "resolved"}),
    "in_progress": frozenset({"open", "waiting_for_customer", "resolved"}),
    "waiting_for_customer": frozenset({"open", "in_progress", "resolved"}),
    "resolved": frozenset({"closed", "open"}),
    "closed": frozenset(),
}


def stream_id(ticket_id: str) -> str:
    return f"ticket-{ticket_id}"


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority; passed in so a new policy applies to old tickets too."""

    first_response: dict[str, timedelta]
    resolution: dict[str, timedelta]


DEFAULT_POLICY = SlaPolicy(
    first_response={
        "urgent": timedelta(hours=1),
        "high": timedelta(hours=4),
        "normal": timedelta(hours=8),
        "low": timedelta(hours=24),
    },
    resolution={
        "urgent": timedelta(hours=8),
        "high": timedelta(hours=24),
        "normal": timedelta(hours=72),
        "low": timedelta(hours=120),
    },
)


# --- commands ---


@dataclass(frozen=True)
class TicketCommand:
    actor: str
    now: datetime


@dataclass(frozen=True)
class OpenTicket(TicketCommand):
    ticket_id: str
    ticket_number: str
    account_id: str
    department: str
    title: str
    request_type: str
    priority: Priority
    content: str
    related_code: str | None = None
    opened_by_staff: bool = False
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class ReplyToTicket(TicketCommand):
    reply_id: str
    author_kind: Literal["customer", "staff"]
    content: str
    account_id: str | None = None
    """The customer's account (must own the ticket); None for staff."""
    internal: bool = False
    attachments: tuple[Attachment, ...] = ()
    then_status: TicketStatus | None = None
    """Staff may move the ticket on with their reply (e.g. waiting_for_customer)."""


@dataclass(frozen=True)
class AssignTicket(TicketCommand):
    department: str
    agent_id: str | None = None


@dataclass(frozen=True)
class ChangePriority(TicketCommand):
    priority: Priority


@dataclass(frozen=True)
class ChangeStatus(TicketCommand):
    status: TicketStatus


@dataclass(frozen=True)
class RateTicket(TicketCommand):
    account_id: str
    rating: int
    comment: str = ""


@dataclass(frozen=True)
class CloseIfQuiet(TicketCommand):
    quiet_period: timedelta


@dataclass(frozen=True)
class CheckSla(TicketCommand):
    policy: SlaPolicy = field(default_factory=lambda: DEFAULT_POLICY)


Command = (
    OpenTicket
    | ReplyToTicket
    | AssignTicket
    | ChangePriority
    | ChangeStatus
    | RateTicket
    | CloseIfQuiet
    | CheckSla
)


# --- state ---


class Ticket(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["none"] | TicketStatus = "none"
    ticket_id: str = ""
    ticket_number: str = ""
    account_id: str = ""
    department: str = ""
    agent_id: str | None = None
    priority: Priority = "normal"
    title: str = ""
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    first_response_at: datetime | None = None
    clock_started_at: datetime | None = None
    """When the resolution clock last (re)started; None while paused."""
    clock_seconds: float = 0.0
    """Resolution-clock time accumulated before `clock_started_at`."""
    last_public_author: Literal["customer", "staff"] = "customer"
    breached: list[str] = Field(default_factory=list)
    rating: int | None = None


@dataclass(frozen=True)
class SlaView:
    first_response_due: datetime | None
    first_response_at: datetime | None
    first_response_breached: bool
    resolution_elapsed: timedelta
    resolution_target: timedelta
    resolution_due: datetime | None
    """Projected deadline if the clock keeps running (None while paused or resolved)."""
    resolution_breached: bool
    paused: bool


def sla(state: Ticket, policy: SlaPolicy, now: datetime) -> SlaView:
    assert state.opened_at is not None
    fr_due = state.opened_at + policy.first_response[state.priority]
    fr_breached = (state.first_response_at or now) > fr_due
    elapsed = timedelta(seconds=state.clock_seconds)
    if state.clock_started_at is not None:
        elapsed += now - state.clock_started_at
    target = policy.resolution[state.priority]
    due = now + (target - elapsed) if state.clock_started_at is not None else None
    return SlaView(
        fr_due,
        state.first_response_at,
        fr_breached,
        elapsed,
        target,
        due,
        elapsed > target,
        state.clock_started_at is None,
    )


# --- decide ---


def _live(state: Ticket, account_id: str | None = None) -> None:
    if state.status == "none" or (account_id is not None and state.account_id != account_id):
        raise NotFound("ticket_not_found", "no such ticket")


def _status(
    state: Ticket, cmd: TicketCommand, status: TicketStatus, reason: str = "staff"
) -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=state.ticket_id,
        account_id=state.account_id,
        actor=cmd.actor,
        occurred_at=cmd.now,
        status=status,
        reason=reason,
    )  # type: ignore[arg-type]


def decide(cmd: Command, state: Ticket) -> Sequence[TicketEvent]:
    match cmd:
        case OpenTicket():
            return _open_ticket(cmd, state)
        case ReplyToTicket():
            return _reply(cmd, state)
        case AssignTicket():
            return _assign_ticket(cmd, state)
        case ChangePriority():
            return _change_priority(cmd, state)
        case ChangeStatus():
            return _change_status(cmd, state)
        case RateTicket():
            return _rate_ticket(cmd, state)
        case CloseIfQuiet():
            return _close_if_quiet(cmd, state)
        case CheckSla():
            return _check_sla(cmd, state)
    raise TypeError(f"unknown command {cmd!r}")


def _open_ticket(cmd: OpenTicket, state: Ticket) -> list[TicketEvent]:
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


def _assign_ticket(cmd: AssignTicket, state: Ticket) -> list[TicketEvent]:
    _live(state)
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


def _change_priority(cmd: ChangePriority, state: Ticket) -> list[TicketEvent]:
    _live(state)
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


def _change_status(cmd: ChangeStatus, state: Ticket) -> list[TicketEvent]:
    _live(state)
    if cmd.status == state.status:
        return []
    if cmd.status not in ALLOWED[state.status]:
        raise Conflict(
            "invalid_transition",
            f"a ticket that is {state.status} cannot become {cmd.status}",
            current_status=state.status,
        )
    return [_status(state, cmd, cmd.status)]


def _rate_ticket(cmd: RateTicket, state: Ticket) -> list[TicketEvent]:
    _live(state, cmd.account_id)
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


def _close_if_quiet(cmd: CloseIfQuiet, state: Ticket) -> list[TicketEvent]:
    if (
        state.status == "resolved"
        and state.resolved_at is not None
        and (cmd.now - state.resolved_at >= cmd.quiet_period)
    ):
        return [_status(state, cmd, "closed", "auto_close")]
    return []


def _check_sla(cmd: CheckSla, state: Ticket) -> list[TicketEvent]:
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


def _reply(cmd: ReplyToTicket, state: Ticket) -> list[TicketEvent]:
    _live(state, cmd.account_id if cmd.author_kind == "customer" else None)
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
            return [_status(state, cmd, "open", "reopened"), reply]
        if state.status == "waiting_for_customer":
            return [reply, _status(state, cmd, "open", "customer_reply")]
        return [reply]
    events: list[TicketEvent] = [reply]
    target = cmd.then_status or ("in_progress" if state.status == "open" else None)
    if target and target != state.status:
        if target not in ALLOWED[state.status]:
            raise Conflict(
                "invalid_transition", f"a ticket that is {state.status} cannot become {target}"
            )
        events.append(_status(state, cmd, target, "staff_reply"))
    return events


# --- evolve ---


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


ticket_decider: Decider[Command, Ticket, TicketEvent] = Decider(
    initial_state=Ticket(),
    decide=decide,
    evolve=evolve,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Ticket.model_validate,
)
