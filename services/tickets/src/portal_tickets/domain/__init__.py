"""The ticket aggregate (stream `ticket-<id>`): conversation, workflow and SLA clocks.

Pure code. The SLA clocks are folded from the ticket's own events into a few
policy-independent accumulators (when the first public staff reply came, how long the
resolution clock has run), so any policy can be applied to them later: a changed policy
is recomputed from history, not from stored deadlines.

Not repeating Zammad #1322 / #3140: the resolution clock pauses while the ticket waits
for the customer and resumes when the customer replies; the first-response target is met
only by a public staff reply (internal notes do not count), and customer follow-ups
never reset it.

Each use case's decision lives in a module of its own (opening, conversation, routing,
sweeps), `evolve` in another; this module dispatches a command to its decision.
"""

from __future__ import annotations

from collections.abc import Sequence

from portal_chassis.decider import Decider
from portal_contracts.events.tickets import TicketEvent
from portal_tickets.domain.commands import (
    AssignTicket,
    ChangePriority,
    ChangeStatus,
    CheckSla,
    CloseIfQuiet,
    Command,
    OpenTicket,
    RateTicket,
    ReplyToTicket,
    TicketCommand,
)
from portal_tickets.domain.conversation import REOPEN_WINDOW, rate_ticket, reply
from portal_tickets.domain.evolve import evolve
from portal_tickets.domain.opening import open_ticket
from portal_tickets.domain.routing import assign_ticket, change_priority, change_status
from portal_tickets.domain.state import (
    ALLOWED,
    DEFAULT_POLICY,
    PAUSED,
    SlaPolicy,
    SlaView,
    Ticket,
    sla,
    stream_id,
)
from portal_tickets.domain.sweeps import check_sla, close_if_quiet

__all__ = [
    "ALLOWED",
    "DEFAULT_POLICY",
    "PAUSED",
    "REOPEN_WINDOW",
    "AssignTicket",
    "ChangePriority",
    "ChangeStatus",
    "CheckSla",
    "CloseIfQuiet",
    "Command",
    "OpenTicket",
    "RateTicket",
    "ReplyToTicket",
    "SlaPolicy",
    "SlaView",
    "Ticket",
    "TicketCommand",
    "decide",
    "evolve",
    "sla",
    "stream_id",
    "ticket_decider",
]


def decide(cmd: Command, state: Ticket) -> Sequence[TicketEvent]:
    match cmd:
        case OpenTicket():
            return open_ticket(cmd, state)
        case ReplyToTicket():
            return reply(cmd, state)
        case AssignTicket():
            return assign_ticket(cmd, state)
        case ChangePriority():
            return change_priority(cmd, state)
        case ChangeStatus():
            return change_status(cmd, state)
        case RateTicket():
            return rate_ticket(cmd, state)
        case CloseIfQuiet():
            return close_if_quiet(cmd, state)
        case CheckSla():
            return check_sla(cmd, state)
    raise TypeError(f"unknown command {cmd!r}")


ticket_decider: Decider[Command, Ticket, TicketEvent] = Decider(
    initial_state=Ticket(),
    decide=decide,
    evolve=evolve,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Ticket.model_validate,
)
