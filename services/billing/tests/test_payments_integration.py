"""Billing's payment saga in-process on the real wire server, against the real wallet
service (its own database) behind billing's wallet port: duplicates, retries, crashes and
concurrency, with every VND accounted for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from portal_billing import domain
from portal_billing.handlers import BillingService
from portal_billing.settings import BillingSettings
from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_chassis.decider import DomainError
from portal_chassis.eventstore import EventStore
from portal_chassis.problems import ProblemError
from portal_contracts.events.billing import InvoiceCancelled, InvoicePaid
from portal_contracts.events.wallet import TopUpCompleted
from portal_wallet.handlers import WalletService
from portal_wallet.payments import SandboxProvider
from portal_wallet.settings import WalletSettings

pytestmark = pytest.mark.integration
PRO_12 = 2_160_000


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
    wallet_store = EventStore(wallet_db)
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
    store = EventStore(mongo_db)
    await store.setup()
    service = BillingService(store, mongo_db, BillingSettings(), wallet, clock)
    await service.setup()
    owner = Principal("u1", unique, frozenset({"owner"}), "s1", "token")
    return SimpleNamespace(service=service, wallet=wallet, owner=owner, account=unique)


async def fund(b: Any, amount: int) -> None:
    await b.wallet.service.credit(b.account, amount, "VND", "adjustment", "test", f"fund-{amount}")


async def balance(b: Any) -> int:
    return int((await b.wallet.balance(b.account))["balance"])


def paying(method: str = "wallet", amount: int | None = None) -> Any:
    return SimpleNamespace(method=method, amount=amount)


async def test_a_crash_between_debit_and_record_is_healed_by_the_retry(billing, monkeypatch):
    b = billing
    await fund(b, 3_000_000)
    invoice = await b.service.place_order(b.owner, "host-pro", 12, "order-1")
    real_run = b.service.invoices.run
    crashes = {"left": 1}

    async def crash_once(*args: Any, **kwargs: Any) -> Any:
        if crashes["left"]:
            crashes["left"] -= 1
            raise ConnectionError("the process died after the wallet debit")
        return await real_run(*args, **kwargs)

    monkeypatch.setattr(b.service.invoices, "run", crash_once)
    with pytest.raises(ConnectionError):
        await b.service.pay(b.owner, invoice["id"], paying(), "pay-1")
    assert await balance(b) == 3_000_000 - PRO_12  # the money left the wallet...
    assert (await b.service.invoice(b.owner, invoice["id"]))["status"] == "unpaid"
    healed = await b.service.pay(b.owner, invoice["id"], paying(), "pay-1")  # ...the retry
    assert healed["status"] == "paid" and healed["paid"] == PRO_12
    assert await balance(b) == 3_000_000 - PRO_12  # debited once
    again = await b.service.pay(b.owner, invoice["id"], paying(), "pay-1")
    assert again["invoice_number"] == healed["invoice_number"]
    assert await balance(b) == 3_000_000 - PRO_12


async def test_the_same_order_request_twice_issues_one_invoice(billing):
    b = billing
    first = await b.service.place_order(b.owner, "host-pro", 12, "same-key")
    second = await b.service.place_order(b.owner, "host-pro", 12, "same-key")
    assert first["id"] == second["id"]
    with pytest.raises(DomainError) as err:
        await b.service.place_order(b.owner, "host-sup", 1, "same-key")
    assert err.value.code == "idempotency_key_reused"
    listed = await b.service.list_invoices(b.owner, status=None, kind=None, limit=10, offset=0)
    assert listed["total"] == 1


async def test_concurrent_payments_of_one_invoice_never_pay_more_than_due(billing):
    b = billing
    await fund(b, 10_000_000)
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    results = await asyncio.gather(
        *(b.service.pay(b.owner, invoice["id"], paying(), f"k{n}") for n in range(4)),
        return_exceptions=True,
    )
    paid = await b.service.invoice(b.owner, invoice["id"])
    assert paid["status"] == "paid" and paid["paid"] == PRO_12
    # Payments that raced past the check had their money credited straight back.
    spent = 10_000_000 - await balance(b)
    assert spent == PRO_12, (spent, paid["payments"], results)
    assert sum(p["applied"] for p in paid["payments"]) == PRO_12


async def test_a_provider_payment_event_delivered_twice_is_applied_once(billing):
    b = billing
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    answer = await b.service.pay(b.owner, invoice["id"], paying("bank_transfer"), "transfer-1")
    top_up_id = answer["payment_request"]["top_up_id"]
    # The wallet credits the transfer (over-paid by 10,000), then tells billing, twice.
    await b.wallet.service.credit(b.account, PRO_12 + 10_000, "VND", "top_up", top_up_id, "t1")
    event = TopUpCompleted(
        occurred_at=datetime.now(UTC),
        account_id=b.account,
        top_up_id=top_up_id,
        provider="sandbox",
        reference=answer["payment_request"]["payment"]["reference"],
        provider_event_id="evt-1",
        amount_requested=PRO_12,
        amount_received=PRO_12 + 10_000,
        currency="VND",
    )
    await asyncio.gather(b.service.on_top_up_completed(event), b.service.on_top_up_completed(event))
    await b.service.on_top_up_completed(event)
    paid = await b.service.invoice(b.owner, invoice["id"])
    assert paid["status"] == "paid" and len(paid["payments"]) == 1
    assert paid["payments"][0]["excess_to_wallet"] == 10_000
    assert await balance(b) == 10_000


async def test_follow_ups_replayed_from_the_topic_change_nothing_more(billing):
    b = billing
    await fund(b, 1_200_000)
    first = await b.service.place_order(b.owner, "host-sup", 12, None)  # 1,080,000
    await b.service.pay(b.owner, first["id"], paying(), "p1")
    second = await b.service.place_order(b.owner, "host-sup", 1, None)
    await b.service.pay(b.owner, second["id"], paying(amount=40_000), "p2")
    await b.service.cancel(b.owner, second["id"])
    after = await balance(b)
    events = [
        s.event
        for invoice_id in (first["id"], second["id"])
        for s in await b.service.store.read_stream(domain.invoice_stream(invoice_id))
    ]
    assert any(isinstance(e, InvoicePaid) for e in events)
    assert any(isinstance(e, InvoiceCancelled) for e in events)
    for _ in range(2):  # at-least-once delivery of billing.events
        for event in events:
            await b.service.follow_up(event)
    assert after == 1_200_000 - 1_080_000  # the stopped order's 40,000 came back
    assert await balance(b) == after
    subs = await b.service.list_subscriptions(b.owner, status=None, limit=10, offset=0)
    assert subs["total"] == 1


async def test_a_credit_the_wallet_refused_to_take_stays_pending_until_the_sweep(billing):
    b = billing
    await fund(b, 500_000)
    invoice = await b.service.place_order(b.owner, "host-sup", 3, None)  # 300,000
    await b.service.pay(b.owner, invoice["id"], paying(amount=200_000), "part")
    real_credit = b.wallet.credit
    calls = {"n": 0}

    async def unreachable(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        raise ProblemError(503, "wallet_unavailable", "the wallet did not answer")

    b.wallet.credit = unreachable
    cancelled = await b.service.cancel(b.owner, invoice["id"])  # owes 200,000 back
    assert cancelled["status"] == "cancelled" and calls["n"] == 1
    assert await balance(b) == 300_000  # not yet
    assert await b.service.pending_credits.count_documents({}) == 1
    assert await b.service.retry_credits() == 0  # still unreachable
    b.wallet.credit = real_credit
    assert await b.service.retry_credits() == 1
    assert await balance(b) == 500_000
    assert await b.service.pending_credits.count_documents({}) == 0
    # The follow-up delivered again from the topic credits nothing more.
    events = await b.service.store.read_stream(domain.invoice_stream(invoice["id"]))
    for stored in events:
        await b.service.follow_up(stored.event)
    assert await balance(b) == 500_000


async def _one_month_with_auto_renewal(b: Any) -> dict[str, Any]:
    """Auto-pay on, Support bought for 1 month (100,000), auto-renewal switched on."""
    await b.service.set_auto_pay(b.owner, True)
    await b.service.place_order(b.owner, "host-sup", 1, None)  # paid at once by auto-pay
    (sub,) = (await b.service.list_subscriptions(b.owner, status=None, limit=5, offset=0))["items"]
    on = await b.service.set_auto_renew(b.owner, sub["id"], True, None)
    assert (on["auto_renew"], on["auto_renew_months"]) == (True, 1)  # the period bought
    return on


async def renewals(b: Any) -> list[dict[str, Any]]:
    listing = await b.service.list_invoices(
        b.owner, status=None, kind="renewal", limit=10, offset=0
    )
    return list(listing["items"])


async def test_auto_renewal_issues_and_pays_one_renewal_per_term(billing):
    b = billing
    await fund(b, 300_000)
    sub = await _one_month_with_auto_renewal(b)
    assert await balance(b) == 200_000
    ends_on = datetime.fromisoformat(sub["ends_on"]).date()
    b.service.clock.advance(days=(ends_on - b.service.clock.now().date()).days - 10)
    await asyncio.gather(b.service.check_expiry(), b.service.check_expiry())  # two replicas
    await b.service.check_expiry()  # and the next sweep
    (renewal,) = await renewals(b)
    assert renewal["status"] == "paid" and renewal["total"] == 100_000
    assert await balance(b) == 100_000  # debited once
    after = await b.service.subscription(b.owner, sub["id"])
    assert after["ends_on"] > sub["ends_on"]  # extended from the end date
    assert (datetime.fromisoformat(after["ends_on"]).date() - ends_on).days in (28, 29, 30, 31)


async def test_auto_renewal_without_funds_leaves_one_invoice_to_pay(billing):
    b = billing
    await fund(b, 100_000)
    sub = await _one_month_with_auto_renewal(b)
    ends_on = datetime.fromisoformat(sub["ends_on"]).date()
    b.service.clock.advance(days=(ends_on - b.service.clock.now().date()).days - 3)
    for _ in range(3):
        await b.service.check_expiry()
    (renewal,) = await renewals(b)  # one invoice, not one per sweep
    assert renewal["status"] == "unpaid" and renewal["amount_due"] == 100_000
    assert (await b.service.subscription(b.owner, sub["id"]))["ends_on"] == sub["ends_on"]
    await fund(b, 150_000)  # (fund's transaction id is per amount: 100,000 again is a no-op)
    await b.service.pay(b.owner, renewal["id"], paying(), "pay-renewal")
    assert await balance(b) == 50_000
    assert (await b.service.subscription(b.owner, sub["id"]))["ends_on"] > sub["ends_on"]


async def test_concurrent_refunds_never_return_more_than_was_paid(billing):
    b = billing
    await fund(b, 300_000)
    invoice = await b.service.place_order(b.owner, "host-sup", 3, None)  # 300,000
    await b.service.pay(b.owner, invoice["id"], paying(), "pay-all")
    assert await balance(b) == 0
    admin = Principal("admin-1", "platform", frozenset({"billing_admin"}), "s2", "token")
    results = await asyncio.gather(
        *(
            b.service.refund(admin, invoice["id"], SimpleNamespace(amount=100_000, reason="r"))
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "refund_too_large", results
    await b.service.retry_credits()  # any credit the wallet did not take at once
    assert await balance(b) == 300_000  # every refund credited once, none twice
    assert (await b.service.invoice(b.owner, invoice["id"]))["refunded"] == 300_000
