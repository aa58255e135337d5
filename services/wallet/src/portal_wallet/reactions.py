"""Subscriptions of the wallet to events (its own, for its read model).

One place lists every subscription of this service; handlers stay thin.
Later: AccountRegistered (identity) opens the wallet; order cancellations refund.
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from portal_chassis.consumer import subscribe
from portal_contracts.events.wallet import WalletEvent
from portal_wallet.projections import PROJECTION, TransactionsProjection


def register(
    broker: KafkaBroker, projection: TransactionsProjection, group_id: str, max_attempts: int
) -> None:
    subscribe(broker, [WalletEvent.topic()], group_id, projection.handle, max_attempts=max_attempts)


__all__ = ["PROJECTION", "register"]
