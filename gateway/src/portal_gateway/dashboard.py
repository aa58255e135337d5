"""The customer dashboard read model, fed by every context's events.

One document per account holds everything the dashboard shows, including the latest
money movements, so a dashboard read is a single `_id` lookup (FerretDB v1 scans any
other query). Updates go through the chassis' apply_once: each document remembers the
last version applied per stream, so replays and duplicates are harmless. Events of one
account arrive in order on one partition, so read-modify-write of the recent list is
safe.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.projection import ProjectionStatus, apply_once
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
READ_MODELS = [DASHBOARDS]
RECENT = 10


class DashboardProjection:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.dashboards = db[DASHBOARDS]
        self.status = ProjectionStatus(db, PROJECTION)

    async def setup(self) -> None:
        """Nothing to index: every read and write is by `_id`."""

    async def handle(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        account_id = getattr(event, "account_id", None) or envelope.tenant
        if account_id:
            update = await self._update_for(account_id, envelope, event)
            if update:
                update.setdefault("$set", {})["updated_at"] = event.occurred_at
                await apply_once(self.dashboards, account_id, envelope, update)
        await self.status.applied(envelope)

    async def _recent_with(
        self, account_id: str, envelope: EventEnvelope, event: WalletCredited | WalletDebited
    ) -> list[dict[str, Any]]:
        doc = await self.dashboards.find_one(
            {"_id": account_id}, projection={"recent_transactions": 1}
        )
        recent = [r for r in (doc or {}).get("recent_transactions", []) if r["id"] != envelope.id]
        row = {
            "id": envelope.id,
            "kind": "credit" if isinstance(event, WalletCredited) else "debit",
            "amount": event.amount,
            "currency": event.currency,
            "balance_after": event.balance_after,
            "reason": event.reason,
            "reference": event.reference,
            "occurred_at": event.occurred_at,
        }
        return sorted([row, *recent], key=lambda r: r["occurred_at"], reverse=True)[:RECENT]

    async def _update_for(
        self, account_id: str, envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
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
                        "recent_transactions": await self._recent_with(account_id, envelope, event),
                    }
                }
        return None


class DashboardQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], default_currency: str = "VND") -> None:
        self.dashboards = db[DASHBOARDS]
        self.status = ProjectionStatus(db, PROJECTION)
        self.default_currency = default_currency

    async def for_account(self, account_id: str, *, show_billing: bool) -> dict[str, Any]:
        """`show_billing` is False for an account's staff users (they see notices only)."""
        doc = await self.dashboards.find_one({"_id": account_id}) or {}
        wallet = doc.get("wallet", {})
        status = await self.status.report()
        board: dict[str, Any] = {
            "account_id": account_id,
            "updated_at": doc.get("updated_at"),
            "projection": {"lag_seconds": status["lag_seconds"], "as_of": datetime.now(UTC)},
        }
        if show_billing:
            board["wallet"] = {
                "balance": wallet.get("balance", 0),
                "currency": wallet.get("currency", self.default_currency),
                "total_topped_up": wallet.get("total_topped_up", 0),
                "top_ups_completed": wallet.get("top_ups_completed", 0),
                "top_ups_failed": wallet.get("top_ups_failed", 0),
            }
            board["recent_transactions"] = doc.get("recent_transactions", [])
        return board
