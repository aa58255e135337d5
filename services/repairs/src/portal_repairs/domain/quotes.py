"""The quote and the customer's answer to it."""

from __future__ import annotations

from portal_chassis.decider import DomainError
from portal_contracts.events.repairs import (
    RepairEvent,
    RepairQuoteApproved,
    RepairQuoted,
    RepairQuoteRejected,
)
from portal_repairs.domain.commands import (
    ApproveQuote,
    QuoteRepair,
    RejectQuote,
)
from portal_repairs.domain.state import Repair, carried, owned, require


def quote_repair(cmd: QuoteRepair, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    require(state, "diagnosing", action="quote")
    if cmd.labour < 0 or any(p.amount < 0 for p in cmd.parts):
        raise DomainError("amount_negative", "quote amounts cannot be negative")
    amount = cmd.labour + sum(p.amount for p in cmd.parts)
    return [
        RepairQuoted(
            **base,
            branch_id=state.branch_id,
            parts=list(cmd.parts),
            labour=cmd.labour,
            amount=amount,
            currency=cmd.currency,
        )
    ]


def approve_quote(cmd: ApproveQuote, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    owned(state, cmd.account_id)
    require(state, "quoted", action="approve the quote of")
    assert state.quote_amount is not None and state.currency
    return [
        RepairQuoteApproved(
            **base,
            branch_id=state.branch_id,
            amount=state.quote_amount,
            currency=state.currency,
        )
    ]


def reject_quote(cmd: RejectQuote, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    owned(state, cmd.account_id)
    require(state, "quoted", action="reject the quote of")
    return [RepairQuoteRejected(**base, branch_id=state.branch_id, reason=cmd.reason)]
