"""Every subscription of the CRM service, in one place; handlers stay thin.

- identity.events: AccountRegistered -> the account becomes a customer; staff users and
  their departments -> the directory used for lead assignment.
- billing.events: InvoicePaid adds to the customer's accumulated money, InvoiceRefunded
  takes it back (each counted once).
- every context's events -> the customer timeline ("records at a glance").
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from portal_chassis.consumer import subscribe
from portal_chassis.topics import CONTEXTS
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.billing import BillingEvent, InvoicePaid, InvoiceRefunded
from portal_contracts.events.identity import AccountRegistered, IdentityEvent
from portal_crm import directory, loyalty
from portal_crm.deps import Deps


def register(broker: KafkaBroker, deps: Deps, *, max_attempts: int) -> None:
    async def on_identity(envelope: EventEnvelope, event: DomainEvent) -> None:
        if isinstance(event, AccountRegistered) and event.kind != "platform":
            await directory.on_account_registered(deps, event)
        else:
            await directory.on_staff_event(deps, event)

    async def on_billing(envelope: EventEnvelope, event: DomainEvent) -> None:
        if isinstance(event, InvoicePaid):
            await loyalty.count_spending(
                deps,
                event.account_id,
                f"invoice:{event.invoice_id}",
                event.amount_spent,
                event.currency,
                "invoice_paid",
                event.occurred_at,
            )
        elif isinstance(event, InvoiceRefunded):
            await loyalty.count_spending(
                deps,
                event.account_id,
                f"refund:{event.refund_id}",
                -event.amount,
                event.currency,
                "invoice_refunded",
                event.occurred_at,
            )

    async def on_any(envelope: EventEnvelope, event: DomainEvent) -> None:
        await directory.on_any_event(deps, envelope, event)

    subscribe(
        broker, [IdentityEvent.topic()], "crm-identity", on_identity, max_attempts=max_attempts
    )
    subscribe(broker, [BillingEvent.topic()], "crm-loyalty", on_billing, max_attempts=max_attempts)
    subscribe(
        broker,
        [f"{context}.events" for context in CONTEXTS],
        "crm-timeline",
        on_any,
        max_attempts=max_attempts,
    )
