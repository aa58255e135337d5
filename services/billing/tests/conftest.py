"""Billing in-process on the real wire server, with the real wallet service (its own
database) behind billing's wallet port and a clock the test controls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from portal_billing import (
    catalogue,
    claims,
    follow_ups,
    orders,
    payments,
    queries,
    renewals,
    streams,
)
from portal_billing.deps import build_deps
from portal_billing.settings import BillingSettings
from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_chassis.counting import CountingEventStore
from portal_chassis.eventstore import EventStore
from portal_tests.use_cases import UseCases
from portal_wallet.handlers import WalletService
from portal_wallet.payments import SandboxProvider
from portal_wallet.settings import WalletSettings

# billing's use cases, so a test reads `b.service.pay(...)`
MODULES = (catalogue, orders, payments, claims, renewals, follow_ups, queries, streams)


class InProcessWallet:
    """Billing's WalletPort over a real WalletService (what HttpWallet reaches over HTTP)."""

    def __init__(self, service: WalletService) -> None:
        self.service = service
        self.debit_calls = 0

    async def debit(self, account_id, amount, currency, reference, key):  # type: ignore[no-untyped-def]
        self.debit_calls += 1
        return await self.service.debit(
            account_id, amount, currency, "invoice_payment", reference, key
        )

    async def credit(self, account_id, amount, currency, reason, reference, key):  # type: ignore[no-untyped-def]
        return await self.service.credit(account_id, amount, currency, reason, reference, key)

    async def top_up(self, account_id, amount, currency, method, key):  # type: ignore[no-untyped-def]
        view, _ = await self.service.request_top_up(
            account_id, amount, currency, method, idempotency_key=key
        )
        return view

    async def balance(self, account_id):  # type: ignore[no-untyped-def]
        return await self.service.wallet_view(account_id)


@pytest.fixture
async def wallet_db(infra: Any, unique: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    db = client[f"test_{unique}_wallet"]
    yield db
    await client.drop_database(db.name)
    await client.close()


@pytest.fixture
async def billing(mongo_db, wallet_db, unique):  # type: ignore[no-untyped-def]
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    wallet_store = CountingEventStore(EventStore(wallet_db))
    await wallet_store.setup()
    provider = SandboxProvider(
        "secret", expiry=timedelta(minutes=30), bank_bin="970436", bank_account="1"
    )
    wallet_service = WalletService(
        wallet_store, wallet_db, WalletSettings(), {"sandbox": provider}, clock
    )
    await wallet_service.setup()
    await wallet_service.open_wallet(unique, cause="test")
    wallet = InProcessWallet(wallet_service)
    store = CountingEventStore(EventStore(mongo_db))  # reads counted: one per stream
    await store.setup()
    service = UseCases(build_deps(store, mongo_db, BillingSettings(), wallet, clock), MODULES)
    await service.setup()
    owner = Principal("u1", unique, frozenset({"owner"}), "s1", "token")
    return SimpleNamespace(
        service=service,
        wallet=wallet,
        owner=owner,
        account=unique,
        store=store,
        wallet_store=wallet_store,
    )
