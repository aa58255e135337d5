"""One line of a customer's timeline ("records at a glance") from any context's event.

The CRM consumes every topic; each event that concerns a customer account becomes an
entry with a short title. Unknown or internal events (logins, QR challenges) are left out.
"""

from __future__ import annotations

from typing import Any

from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope

SKIPPED = frozenset(
    {
        "LoginSucceeded",
        "SecondFactorFailed",
        "SecondFactorLocked",
        "EmailVerified",
        "TwoFactorEnabled",
        "TwoFactorDisabled",
        "LoginFailed",
        "SessionRevoked",
        "QrLoginRequested",
        "QrLoginApproved",
        "QrLoginCompleted",
        "PasswordChanged",
        "TopUpRequested",
        "WalletOpened",
        "PlanPublished",
        "PlanChanged",
        "PlanRetired",
        "InvoicePaymentStarted",  # steps of a payment: the recorded payment is the fact
        "InvoicePaymentAbandoned",
        "PointsChanged",
        "AccumulatedMoneyChanged",
        "LevelProgressChanged",
        "PortraitUpdated",
        "TicketSlaBreached",
    }
)


def money(amount: Any, currency: Any = "VND") -> str:
    return f"{int(amount):,} {currency}".replace(",", ".")


def title_of(event: DomainEvent) -> str:
    e: Any = event
    match event.event_type:
        case "AccountRegistered":
            return f"Account {e.name} registered"
        case "UserRegistered":
            return f"User {e.name} joined as {e.role}"
        case "TopUpCompleted":
            return f"Top-up of {money(e.amount_received, e.currency)} completed"
        case "TopUpFailed":
            return f"Top-up failed ({e.reason})"
        case "WalletCredited":
            return f"Wallet credited {money(e.amount, e.currency)} ({e.reason})"
        case "TopUpHeldForReview":
            return f"Payment of {money(e.amount_received, e.currency)} held for review"
        case "HeldCreditReleased":
            return f"Held payment of {money(e.amount, e.currency)} released to the balance"
        case "HeldCreditMarkedForRefund":
            return f"Held payment of {money(e.amount, e.currency)} to be refunded"
        case "WalletDebited":
            return f"Wallet debited {money(e.amount, e.currency)} ({e.reason})"
        case "InvoiceIssued":
            return f"Order {e.order_id}: {e.plan_name}, invoice {money(e.total, e.currency)}"
        case "InvoicePaid":
            return f"Invoice {e.invoice_number} paid ({money(e.amount_spent, e.currency)})"
        case "InvoicePaymentRecorded":
            return f"Payment of {money(e.applied, e.currency)} received ({e.channel})"
        case "InvoiceCancelled":
            return f"Order {e.order_id} cancelled"
        case "InvoiceRefunded":
            return f"Invoice {e.invoice_number} refunded {money(e.amount, e.currency)}"
        case "SubscriptionStarted":
            return f"Contract {e.contract_number} started: {e.plan_name} until {e.ends_on}"
        case "SubscriptionRenewed":
            return f"Subscription renewed until {e.ends_on}"
        case "PlanUpgraded":
            return f"Upgraded to {e.to_plan_name}"
        case "SubscriptionExpiring":
            return f"Contract {e.contract_number} ends in {e.days_left} days"
        case "SubscriptionExpired":
            return f"Contract {e.contract_number} expired"
        case "AutoRenewChanged":
            if e.months is None:
                return "Automatic renewal turned off"
            return f"Automatic renewal on, {e.months} month(s) at a time"
        case "TicketOpened":
            return f"Ticket {e.ticket_number} opened: {e.title}"
        case "TicketStatusChanged":
            return f"Ticket status: {e.status}"
        case "RepairRegistered":
            return f"Repair {e.repair_number} registered: {e.model}"
        case "RepairReturned":
            return "Repaired device returned"
        case "CareActionRecorded":
            value = f" ({e.value})" if e.value else ""
            return f"Care: {e.care_type_name}{value}"
        case "CustomerLevelChanged":
            return f"Level changed to {e.to_level}"
    return event.event_type


STAFF_ONLY = frozenset({"TicketAssigned", "TicketPriorityChanged"})


def staff_only(event: DomainEvent) -> bool:
    """Entries the customer never sees on their own timeline (CRM notes, internal steps)."""
    if event.event_type in STAFF_ONLY:
        return True
    if event.context == "crm":
        if event.event_type == "CustomerLevelChanged":
            return False
        return not (event.event_type == "CareActionRecorded" and getattr(event, "value", 0))
    return False


def timeline_entry(envelope: EventEnvelope, event: DomainEvent) -> dict[str, Any] | None:
    if event.event_type in SKIPPED:
        return None
    if event.context == "tickets" and getattr(event, "internal", False):
        return None  # staff-only notes never reach the customer's timeline
    # A plain CRM contact (no portal account) keeps its timeline under its contact id.
    account_id = (
        getattr(event, "account_id", None) or getattr(event, "contact_id", None) or envelope.tenant
    )
    if not account_id or account_id == "platform":
        return None
    return {
        "account_id": account_id,
        "at": event.occurred_at,
        "context": event.context,
        "type": event.event_type,
        "title": title_of(event),
        "staff_only": staff_only(event),
    }
