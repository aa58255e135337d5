"""Every subscription of the wallet service, in one place; handlers stay thin.

- identity.events AccountRegistered -> open the account's wallet.
- wallet.events -> the wallet's own transaction history (read model).
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from portal_chassis.consumer import subscribe
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.identity import AccountRegistered, IdentityEvent
from portal_contracts.events.wallet import WalletEvent
from portal_wallet.handlers import WalletService
from portal_wallet.projections import TransactionsProjection


def register(
    broker: KafkaBroker,
    service: WalletService,
    projection: TransactionsProjection,
    *,
    max_attempts: int,
    projection_group: str = "wallet-transactions",
    reactions_group: str = "wallet-reactions",
) -> None:
    async def on_identity_event(envelope: EventEnvelope, event: DomainEvent) -> None:
        if isinstance(event, AccountRegistered) and event.kind != "platform":
            await service.open_wallet(event.account_id, cause=envelope.id)

    subscribe(
        broker,
        [IdentityEvent.topic()],
        reactions_group,
        on_identity_event,
        max_attempts=max_attempts,
    )
    subscribe(
        broker,
        [WalletEvent.topic()],
        projection_group,
        projection.handle,
        max_attempts=max_attempts,
    )
