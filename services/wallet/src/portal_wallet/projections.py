"""The wallet's own read model: its transaction history, fed from `wallet.events`."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.projection import ProjectionStatus, insert_once
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import WalletCredited, WalletDebited
from portal_wallet.handlers import TRANSACTIONS

PROJECTION = "wallet-transactions"


class TransactionsProjection:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection = db[TRANSACTIONS]
        self.status = ProjectionStatus(db, PROJECTION)

    async def handle(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        if isinstance(event, WalletCredited | WalletDebited):
            await insert_once(
                self.collection,
                {
                    "_id": event.transaction_id,
                    "account_id": event.account_id,
                    "kind": "credit" if isinstance(event, WalletCredited) else "debit",
                    "amount": event.amount,
                    "currency": event.currency,
                    "balance_after": event.balance_after,
                    "reason": event.reason,
                    "reference": event.reference,
                    "occurred_at": event.occurred_at,
                    "stream_version": envelope.streamversion,
                },
            )
        await self.status.applied(envelope)
