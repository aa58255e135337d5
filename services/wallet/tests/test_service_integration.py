"""Wallet use cases in-process on the real wire server, with a clock the test controls."""

import asyncio
import json
from datetime import timedelta

import pytest

from portal_chassis.clock import ManualClock
from portal_chassis.decider import DomainError
from portal_wallet.payments import sign

pytestmark = pytest.mark.integration
SECRET = "s3cret"  # the sandbox secret of the `wallet` fixture (conftest.py)


@pytest.fixture(autouse=True)
async def _open_wallet(wallet, unique):
    """Identity registered the account: its wallet is open."""
    assert await wallet[0].open_wallet(unique, cause="test-registration")
    assert not await wallet[0].open_wallet(unique, cause="test-registration")


def signed(
    clock: ManualClock, ref: str, amount: int, event_id: str, kind: str = "payment.succeeded"
) -> tuple[bytes, str]:
    body = json.dumps(
        {"id": event_id, "type": kind, "reference": ref, "amount": amount, "currency": "VND"}
    ).encode()
    return body, sign(SECRET, body, int(clock.now().timestamp()))


async def test_expired_top_ups_fail_and_late_money_is_still_credited(wallet, unique):
    service, clock = wallet
    top_up, _ = await service.request_top_up(unique, 100_000, "VND", "sandbox")
    clock.advance(minutes=14)
    assert await service.expire_due() == 0
    clock.advance(minutes=2)
    assert await service.expire_due() == 1
    assert (await service.get_top_up(unique, top_up["id"]))["status"] == "failed"
    assert (await service.get_top_up(unique, top_up["id"]))["failure_reason"] == "expired"
    assert await service.expire_due() == 0  # once
    body, sig = signed(clock, top_up["payment"]["reference"], 100_000, "late-1")
    await service.handle_webhook("sandbox", body, sig)
    assert (await service.wallet_view(unique))["balance"] == 100_000


async def test_the_same_provider_event_delivered_concurrently_credits_once(wallet, unique):
    service, clock = wallet
    top_up, _ = await service.request_top_up(unique, 200_000, "VND", "bank_transfer")
    body, sig = signed(clock, top_up["payment"]["reference"], 200_000, "evt-concurrent")
    results = await asyncio.gather(
        *(service.handle_webhook("sandbox", body, sig) for _ in range(10))
    )
    assert sum(r["status"] == "processed" for r in results) == 1
    assert (await service.wallet_view(unique))["balance"] == 200_000


async def test_a_second_real_payment_on_the_same_reference_is_held_for_review(wallet, unique):
    service, clock = wallet
    top_up, _ = await service.request_top_up(unique, 50_000, "VND", "bank_transfer")
    answers = []
    for event_id in ("first-transfer", "second-transfer"):
        body, sig = signed(clock, top_up["payment"]["reference"], 50_000, event_id)
        answers.append(await service.handle_webhook("sandbox", body, sig))
    assert [a["status"] for a in answers] == ["processed", "held"]
    view = await service.wallet_view(unique)
    assert view["balance"] == 50_000 and view["total_topped_up"] == 50_000
    assert view["held"] == 50_000 and view["held_payments"] == 1


async def test_signature_window_follows_the_clock(wallet, unique):
    service, clock = wallet
    top_up, _ = await service.request_top_up(unique, 50_000, "VND", "sandbox")
    body, sig = signed(clock, top_up["payment"]["reference"], 50_000, "evt-old")
    clock.advance(seconds=301)
    with pytest.raises(DomainError) as err:
        await service.handle_webhook("sandbox", body, sig)
    assert err.value.status_code == 401
    assert (await service.wallet_view(unique))["balance"] == 0


async def test_balance_at_any_past_instant(wallet, unique):
    service, clock = wallet
    t0 = clock.now()
    await service.credit(unique, 1_000, "VND", "adjustment", "seed", "k1")
    clock.advance(hours=1)
    t1 = clock.now()
    await service.debit(unique, 400, "VND", "invoice_payment", "INV-9", "k2")
    clock.advance(hours=1)
    with pytest.raises(DomainError):
        await service.debit(unique, 5_000, "VND", "invoice_payment", "INV-10", "k3")
    assert (await service.balance_at(unique, t0 - timedelta(seconds=1)))["balance"] == 0
    assert (await service.balance_at(unique, t0 + timedelta(minutes=30)))["balance"] == 1_000
    assert (await service.balance_at(unique, t1 + timedelta(minutes=30)))["balance"] == 600
    assert (await service.balance_at(unique, clock.now()))["balance"] == 600


async def test_concurrent_debits_never_overdraw(wallet, unique):
    service, _ = wallet
    await service.credit(unique, 1_000, "VND", "adjustment", "seed", "seed")

    async def pay(i: int) -> bool:
        try:
            await service.debit(unique, 300, "VND", "invoice_payment", f"INV-{i}", f"p{i}")
            return True
        except DomainError:
            return False

    outcomes = await asyncio.gather(*(pay(i) for i in range(8)))
    assert outcomes.count(True) == 3
    assert (await service.wallet_view(unique))["balance"] == 100


async def test_refused_top_up_stores_nothing(wallet, unique, mongo_db):
    service, _ = wallet
    commits = await mongo_db["commits"].count_documents({})
    for amount in (1, 10**12):
        with pytest.raises(DomainError):
            await service.request_top_up(unique, amount, "VND", "sandbox")
    assert await mongo_db["commits"].count_documents({}) == commits
    assert await mongo_db["payment_references"].count_documents({}) == 0
