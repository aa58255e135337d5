"""The customer dashboard read model, fed by every context's events.

One document per account (summary figures) plus an activity row per money movement.
Every update goes through the chassis' idempotent helpers, so replays are harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.mongo import ensure_indexes
from portal_chassis.projection import ProjectionStatus, apply_once, insert_once
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import (
    TopUpCompleted,
    TopUpFailed,
    TopUpRequested,
    WalletCredited,
    WalletDebited,
    WalletOpened,
)

PROJECTION = "gateway-dashboard"
DASHBOARDS = "dashboards"
ACTIVITY = "dashboard_activity"
READ_MODELS = [DASHBOARDS, ACTIVITY]
RECENT = 10


class DashboardProjection:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.dashboards = db[DASHBOARDS]
        self.activity = db[ACTIVITY]
        self.status = ProjectionStatus(db, PROJECTION)

    async def setup(self) -> None:
        await ensure_indexes(
            self.activity,
            [
                IndexModel(
                    [("account_id", ASCENDING), ("occurred_at", DESCENDING)], name="account_time"
                )
            ],
        )

    async def handle(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        account_id = getattr(event, "account_id", None) or envelope.tenant
        if account_id:
            # The activity row goes first: whoever sees the new balance also sees its row.
            if isinstance(event, WalletCredited | WalletDebited):
                await insert_once(
                    self.activity,
                    {
                        "_id": envelope.id,
                        "account_id": account_id,
                        "kind": "credit" if isinstance(event, WalletCredited) else "debit",
                        "amount": event.amount,
                        "currency": event.currency,
                        "balance_after": event.balance_after,
                        "reason": event.reason,
                        "reference": event.reference,
                        "occurred_at": event.occurred_at,
                    },
                )
            update = self._update_for(event)
            if update:
                update.setdefault("$set", {})["updated_at"] = event.occurred_at
                await apply_once(self.dashboards, account_id, envelope, update)
        await self.status.applied(envelope)

    @staticmethod
    def _update_for(event: DomainEvent) -> dict[str, Any] | None:
        match event:
            case WalletOpened():
                return {"$set": {"wallet.currency": event.currency}}
            case TopUpRequested():
                return {"$inc": {"wallet.top_ups_requested": 1}}
            case TopUpCompleted():
                return {
                    "$inc": {
                        "wallet.total_topped_up": event.amount_received,
                        "wallet.top_ups_completed": 1,
                    }
                }
            case TopUpFailed():
                return {"$inc": {"wallet.top_ups_failed": 1}}
            case WalletCredited() | WalletDebited():
                # balance_after is authoritative and events arrive in stream order.
                return {
                    "$set": {
                        "wallet.balance": event.balance_after,
                        "wallet.currency": event.currency,
                    }
                }
        return None


class DashboardQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], default_currency: str = "VND") -> None:
        self.dashboards = db[DASHBOARDS]
        self.activity = db[ACTIVITY]
        self.status = ProjectionStatus(db, PROJECTION)
        self.default_currency = default_currency

    async def for_account(self, account_id: str) -> dict[str, Any]:
        doc = await self.dashboards.find_one({"_id": account_id}) or {}
        wallet = doc.get("wallet", {})
        recent = []
        cursor = (
            self.activity.find({"account_id": account_id}, projection={"account_id": 0})
            .sort([("occurred_at", DESCENDING), ("_id", DESCENDING)])
            .limit(RECENT)
        )
        async for row in cursor:
            row["id"] = row.pop("_id")
            recent.append(row)
        status = await self.status.report()
        return {
            "account_id": account_id,
            "wallet": {
                "balance": wallet.get("balance", 0),
                "currency": wallet.get("currency", self.default_currency),
                "total_topped_up": wallet.get("total_topped_up", 0),
                "top_ups_completed": wallet.get("top_ups_completed", 0),
                "top_ups_failed": wallet.get("top_ups_failed", 0),
            },
            "recent_transactions": recent,
            "updated_at": doc.get("updated_at"),
            "projection": {"lag_seconds": status["lag_seconds"], "as_of": datetime.now(UTC)},
        }
