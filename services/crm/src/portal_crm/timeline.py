"""One line of a customer's timeline ("records at a glance") from any context's event.

The CRM consumes every topic; each event that concerns a customer account becomes an
entry with a short title. Unknown or internal events (logins, QR challenges) are left out.
"""

from __future__ import annotations

from string import Formatter
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


TITLES: dict[str, str] = {
    "AccountRegistered": "Account {name} registered",
    "UserRegistered": "User {name} joined as {role}",
    "TopUpCompleted": "Top-up of {amount_received} completed",
    "TopUpFailed": "Top-up failed ({reason})",
    "WalletCredited": "Wallet credited {amount} ({reason})",
    "TopUpHeldForReview": "Payment of {amount_received} held for review",
    "HeldCreditReleased": "Held payment of {amount} released to the balance",
    "HeldCreditMarkedForRefund": "Held payment of {amount} to be refunded",
    "WalletDebited": "Wallet debited {amount} ({reason})",
    "InvoiceIssued": "Order {order_id}: {plan_name}, invoice {total}",
    "InvoicePaid": "Invoice {invoice_number} paid ({amount_spent})",
    "InvoicePaymentRecorded": "Payment of {applied} received ({channel})",
    "InvoiceCancelled": "Order {order_id} cancelled",
    "InvoiceRefunded": "Invoice {invoice_number} refunded {amount}",
    "SubscriptionStarted": "Contract {contract_number} started: {plan_name} until {ends_on}",
    "SubscriptionRenewed": "Subscription renewed until {ends_on}",
    "PlanUpgraded": "Upgraded to {to_plan_name}",
    "SubscriptionExpiring": "Contract {contract_number} ends in {days_left} days",
    "SubscriptionExpired": "Contract {contract_number} expired",
    "AutoRenewChanged": "Automatic renewal on, {months} month(s) at a time",
    "AutoRenewChanged.off": "Automatic renewal turned off",
    "TicketOpened": "Ticket {ticket_number} opened: {title}",
    "TicketStatusChanged": "Ticket status: {status}",
    "RepairRegistered": "Repair {repair_number} registered: {model}",
    "RepairReturned": "Repaired device returned",
    "CareActionRecorded": "Care: {care_type_name}",
    "CareActionRecorded.valued": "Care: {care_type_name} ({value})",
    "CustomerLevelChanged": "Level changed to {to_level}",
}
"""Each entry's English title by its key (the event type, or a variant of it). The entry
also keeps the key and the values (`params`), so a front end words it in the reader's
language and formats numbers, money and dates its own way."""

MONEY = frozenset({"amount", "amount_received", "total", "amount_spent", "applied"})
"""Values that are amounts of money (in the event's `currency`)."""


def money(amount: Any, currency: Any = "VND") -> str:
    return f"{int(amount):,} {currency}".replace(",", ".")


def wording(event: DomainEvent) -> tuple[str, dict[str, Any]] | None:
    """The key of the entry's title in TITLES and the values it is made of (JSON values,
    plus `currency` when it has money), or None for an event without a title."""
    key = event.event_type
    if key == "AutoRenewChanged" and getattr(event, "months", None) is None:
        key += ".off"
    elif key == "CareActionRecorded" and getattr(event, "value", None):
        key += ".valued"
    template = TITLES.get(key)
    if template is None:
        return None
    fields = event.model_dump(mode="json")
    names = [name for _, name, _, _ in Formatter().parse(template) if name]
    params = {name: fields.get(name) for name in names}
    if MONEY.intersection(names):
        params["currency"] = fields.get("currency", "VND")
    return key, params


def title_of(event: DomainEvent) -> str:
    found = wording(event)
    if found is None:
        return event.event_type
    key, params = found
    shown = {
        name: money(value, params["currency"]) if name in MONEY else value
        for name, value in params.items()
    }
    return TITLES[key].format(**shown)


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
    key, params = wording(event) or (event.event_type, {})
    return {
        "account_id": account_id,
        "at": event.occurred_at,
        "context": event.context,
        "type": event.event_type,
        "title": title_of(event),
        "key": key,
        "params": params,
        "staff_only": staff_only(event),
    }
