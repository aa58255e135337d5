"""Every subscription of the billing service, in one place; handlers stay thin.

- wallet.events TopUpCompleted -> a provider payment for an invoice is applied to it.
- billing.events -> billing's own read models (invoice and subscription lists), and the
  consequences of a fact (start the subscription, credit excess or refunds to the wallet)
  only when no command claimed it (a crash right after the append).
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from portal_billing import follow_ups, payments
from portal_billing.deps import (
    Deps,
)
from portal_chassis.consumer import subscribe
from portal_chassis.eventstore import StoredEvent
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.billing import BillingEvent
from portal_contracts.events.wallet import TopUpCompleted, WalletEvent


def register(broker: KafkaBroker, deps: Deps, *, max_attempts: int) -> None:
    async def on_wallet_event(envelope: EventEnvelope, event: DomainEvent) -> None:
        if isinstance(event, TopUpCompleted):
            await payments.on_top_up_completed(deps, event)

    async def on_own_event(envelope: EventEnvelope, event: DomainEvent) -> None:
        if isinstance(event, BillingEvent):
            stored = StoredEvent(envelope.id, envelope.subject, envelope.streamversion, event)
            await follow_ups.on_own_event(deps, stored, actor=envelope.actor or "billing")

    subscribe(
        broker,
        [WalletEvent.topic()],
        "billing-payments",
        on_wallet_event,
        max_attempts=max_attempts,
    )
    subscribe(
        broker, [BillingEvent.topic()], "billing-follow-up", on_own_event, max_attempts=max_attempts
    )
