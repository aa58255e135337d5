"""The ticket's state, its SLA clocks and the small rules every decision shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portal_chassis.decider import NotFound
from portal_contracts.events.tickets import Priority, TicketStatus, TicketStatusChanged

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


def live(state: Ticket, account_id: str | None = None) -> None:
    """The ticket exists (and, for a customer, is theirs): else it is not found."""
    if state.status == "none" or (account_id is not None and state.account_id != account_id):
        raise NotFound("ticket_not_found", "no such ticket")


def status_changed(
    state: Ticket, actor: str, now: datetime, status: TicketStatus, reason: str = "staff"
) -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=state.ticket_id,
        account_id=state.account_id,
        actor=actor,
        occurred_at=now,
        status=status,
        reason=reason,
    )  # type: ignore[arg-type]
