"""Read-model rows of billing: what lists and detail views show, folded from events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from portal_billing.domain import Plan, Subscription
from portal_chassis.eventstore import StoredEvent
from portal_contracts.events.billing import (
    InvoiceCancelled,
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
    InvoicePaymentAbandoned,
    InvoicePaymentRecorded,
    InvoicePaymentStarted,
    InvoiceRefunded,
    PaymentClaimApproved,
    PaymentClaimFiled,
    PaymentClaimRejected,
    PlanUpgraded,
    SubscriptionExpired,
    SubscriptionExpiring,
    SubscriptionRenewed,
    SubscriptionStarted,
)


def strip_id(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["id"] = row.pop("_id")
    row.pop("version", None)
    return row


def without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def plan_row(plan: Plan) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "code": plan.code,
        "name": plan.name,
        "category": plan.category,
        "tier": plan.tier,
        "status": plan.status,
        "monthly_price": plan.monthly_price,
        "currency": plan.currency,
        "description": plan.description,
        "trial_days": plan.trial_days,
        "sectors": list(plan.sectors),
        "periods": [
            {
                "months": p.months,
                "discount_percent": p.discount_percent,
                "price": plan.price(p.months),
            }
            for p in plan.periods
        ],
    }


def order_lines(plan: Plan, months: int, price: int, suffix: str = "") -> tuple[InvoiceLine, ...]:
    gross = plan.monthly_price * months
    lines = [InvoiceLine(description=f"{plan.name}, {months} month(s){suffix}", amount=gross)]
    if gross != price:
        discount = plan.period(months).discount_percent
        lines.append(
            InvoiceLine(
                description=f"{discount}% discount for {months} months", amount=price - gross
            )
        )
    return tuple(lines)


def _end_payment(row: dict[str, Any], payment_id: str) -> None:
    row["payments_in_progress"] = [
        p for p in row.get("payments_in_progress", []) if p["payment_id"] != payment_id
    ]


def invoice_row(
    events: list[StoredEvent],
    row: dict[str, Any] | None = None,
    claims: dict[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The invoice's list row and the claims these events changed, folded from its events
    (all of them, or those after a stored `row` with its `claims` by id)."""
    row = dict(row or {})
    claims = dict(claims or {})
    changed: set[str] = set()
    for stored in events:
        event = stored.event
        if isinstance(event, InvoiceIssued):
            row = {
                "account_id": event.account_id,
                "proforma_number": event.proforma_number,
                "invoice_number": None,
                "order_id": event.order_id,
                "order_kind": event.order_kind,
                "subscription_id": event.subscription_id,
                "plan_id": event.plan_id,
                "plan_name": event.plan_name,
                "category": event.category,
                "tier": event.tier,
                "months": event.months,
                "lines": [line.model_dump() for line in event.lines],
                "total": event.total,
                "paid": 0,
                "amount_due": event.total,
                "currency": event.currency,
                "status": "unpaid",
                "issued_at": event.occurred_at,
                "due_at": event.due_at,
                "paid_at": None,
                "payments": [],
                "refunded": 0,
                "upgrade_credit": event.upgrade_credit,
                "payments_in_progress": [],
                "payment_in_progress_since": None,
            }
        elif isinstance(event, InvoicePaymentStarted):
            row["payments_in_progress"] = [*row["payments_in_progress"]]
            row["payments_in_progress"].append(
                {
                    "payment_id": event.payment_id,
                    "channel": event.channel,
                    "amount": event.amount,
                    "started_at": event.occurred_at,
                }
            )
        elif isinstance(event, InvoicePaymentAbandoned):
            _end_payment(row, event.payment_id)
        elif isinstance(event, InvoicePaymentRecorded):
            _end_payment(row, event.payment_id)
            row["paid"] += event.applied
            row["amount_due"] = event.amount_due_after
            if event.applied > 0 and row["status"] == "unpaid":
                row["status"] = "partially_paid"
            row["payments"] = [*row["payments"]]
            row["payments"].append(
                {
                    "payment_id": event.payment_id,
                    "channel": event.channel,
                    "amount": event.amount,
                    "applied": event.applied,
                    "excess_to_wallet": event.excess,
                    "reference": event.reference,
                    "at": event.occurred_at,
                }
            )
        elif isinstance(event, InvoicePaid):
            row.update(
                status="paid", invoice_number=event.invoice_number, paid_at=event.occurred_at
            )
            row["amount_due"] = 0
        elif isinstance(event, InvoiceCancelled):
            row.update(
                status="cancelled",
                amount_due=0,
                cancelled_at=event.occurred_at,
                cancel_reason=event.reason,
                refunded_to_wallet=event.refunded_to_wallet,
            )
        elif isinstance(event, InvoiceRefunded):
            row["refunded"] += event.amount
        elif isinstance(event, PaymentClaimFiled):
            changed.add(event.claim_id)
            claims[event.claim_id] = {
                "claim_id": event.claim_id,
                "invoice_id": event.invoice_id,
                "account_id": event.account_id,
                "invoice_proforma": row.get("proforma_number"),
                "reference": event.reference,
                "amount": event.amount,
                "currency": event.currency,
                "paid_on": event.paid_on.isoformat() if event.paid_on else None,
                "proof_file_id": event.proof_file_id,
                "status": "under_review",
                "filed_at": event.occurred_at,
                "review_due_at": event.review_due_at,
                "decided_at": None,
                "reviewer": None,
                "rejection_reason": None,
            }
        elif isinstance(event, PaymentClaimApproved | PaymentClaimRejected):
            changed.add(event.claim_id)
            claim = claims[event.claim_id] = dict(claims[event.claim_id])
            claim.update(decided_at=event.occurred_at, reviewer=event.reviewer)
            if isinstance(event, PaymentClaimApproved):
                claim["status"] = "approved"
            else:
                claim.update(status="rejected", rejection_reason=event.reason)
    if row:
        # What billing's payment sweep looks for (an indexed field, not an array query).
        started = [p["started_at"] for p in row["payments_in_progress"]]
        row["payment_in_progress_since"] = min(started) if started else None
    return row, [claims[claim_id] for claim_id in claims if claim_id in changed]


def claim_out(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("_id", "version")}
    out["id"] = row.get("claim_id") or row.get("_id")
    due = row.get("review_due_at")
    out["overdue"] = bool(row.get("status") == "under_review" and due is not None and due < now)
    out["section"] = {
        "under_review": "documents_under_review",
        "rejected": "rejected_payments",
        "approved": "approved_payments",
    }[row["status"]]
    return out


def subscription_row(state: Subscription, today: date | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_id": state.account_id,
        "contract_number": state.contract_number,
        "status": state.status,
        "plan_id": state.plan_id,
        "plan_code": state.plan_code,
        "plan_name": state.plan_name,
        "category": state.category,
        "tier": state.tier,
        "currency": state.currency,
        "starts_on": state.starts_on.isoformat() if state.starts_on else None,
        "ends_on": state.ends_on.isoformat() if state.ends_on else None,
        "amount": state.total_paid,
        "current_period_value": state.period_value,
        "invoices": list(state.invoices),
        "auto_renew": state.auto_renew_months is not None,
        "auto_renew_months": state.auto_renew_months,
        "on_trial": state.on_trial,
    }
    if today is not None and state.ends_on is not None:
        row["days_left"] = (state.ends_on - today).days
    return row


def contract_entry(event: Any) -> dict[str, Any] | None:
    if isinstance(event, SubscriptionStarted):
        return {
            "event": "started",
            "at": event.occurred_at,
            "ends_on": event.ends_on,
            "amount": event.amount,
            "months": event.months,
        }
    if isinstance(event, SubscriptionRenewed):
        return {
            "event": "renewed",
            "at": event.occurred_at,
            "ends_on": event.ends_on,
            "amount": event.amount,
            "months": event.months,
        }
    if isinstance(event, PlanUpgraded):
        return {
            "event": "upgraded",
            "at": event.occurred_at,
            "from_tier": event.from_tier,
            "to_tier": event.to_tier,
            "credit": event.credit,
            "charge": event.charge,
            "months": event.months,
            "extension": event.extension,
            "ends_on": event.ends_on,
        }
    if isinstance(event, SubscriptionExpiring):
        return {"event": "expiring", "at": event.occurred_at, "days_left": event.days_left}
    if isinstance(event, SubscriptionExpired):
        return {"event": "expired", "at": event.occurred_at}
    return None
