"""What may be asked of a ticket: one command per use case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from portal_contracts.events.tickets import Attachment, Priority, TicketStatus
from portal_tickets.domain.state import DEFAULT_POLICY, SlaPolicy


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
