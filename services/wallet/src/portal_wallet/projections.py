"""The wallet's own read model: its transaction history, fed from `wallet.events`.

Besides credits and debits it has one row per payment held for review (kind "held",
keyed by the hold id): customers see it in their history, staff list and settle holds
from it. The row's status follows the hold (held -> released | refund).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.projection import ProjectionStatus, insert_once
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import (
    HeldCreditMarkedForRefund,
    HeldCreditReleased,
    TopUpHeldForReview,
    WalletCredited,
    WalletDebited,
)
from portal_wallet.handlers import TRANSACTIONS, held_row, record_settled

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
        elif isinstance(event, TopUpHeldForReview):
            await insert_once(self.collection, held_row(event, envelope.streamversion))
        elif isinstance(event, HeldCreditReleased):
            await self._settled(event.hold_id, "released", event.released_by, event.occurred_at)
        elif isinstance(event, HeldCreditMarkedForRefund):
            await self._settled(event.hold_id, "refund", event.marked_by, event.occurred_at)
        await self.status.applied(envelope)

    async def _settled(self, hold_id: str, status: str, staff: str, at: datetime) -> None:
        await record_settled(self.collection, hold_id, status, staff, at)
