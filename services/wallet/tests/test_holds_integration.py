"""Payments held for review, and wallets opened on first use, in-process on the real
wire server with a clock the test controls."""

import asyncio
import json

import pytest

from portal_chassis.clock import ManualClock
from portal_chassis.decider import DomainError
from portal_contracts.events.wallet import WalletCredited, WalletOpened
from portal_wallet import domain
from portal_wallet.handlers import InvalidWebhookBody, WalletService
from portal_wallet.payments import sign

pytestmark = pytest.mark.integration
SECRET = "s3cret"  # the sandbox secret of the `wallet` fixture (conftest.py)


def signed(clock: ManualClock, ref: str, amount: int, event_id: str) -> tuple[bytes, str]:
    body = json.dumps(
        {
            "id": event_id,
            "type": "payment.succeeded",
            "reference": ref,
            "amount": amount,
            "currency": "VND",
        }
    ).encode()
    return body, sign(SECRET, body, int(clock.now().timestamp()))


async def stored(mongo_db) -> dict[str, int]:
    return {
        name: await mongo_db[name].count_documents({})
        for name in ("commits", "provider_events", "transactions")
    }


async def events_of(service: WalletService, account_id: str) -> list[object]:
    return [s.event for s in await service.store.read_stream(domain.stream_id(account_id))]


# --- wallets open on first use ---


async def test_a_top_up_before_account_registered_opens_the_wallet_and_the_late_event_is_a_no_op(
    wallet, unique
):
    service, clock = wallet
    view = await service.wallet_view(unique)
    assert view["balance"] == 0 and view["version"] == 0  # not opened, and no 404
    top_up, created = await service.request_top_up(
        unique, 100_000, "VND", "sandbox", open_if_missing=True
    )
    assert created and top_up["status"] == "pending"
    body, sig = signed(clock, top_up["payment"]["reference"], 100_000, "evt-first-use")
    assert (await service.handle_webhook("sandbox", body, sig))["status"] == "processed"
    assert (await service.wallet_view(unique))["balance"] == 100_000

    assert not await service.open_wallet(unique, cause="late-account-registered")
    events = await events_of(service, unique)
    assert sum(isinstance(e, WalletOpened) for e in events) == 1
    assert (await service.wallet_view(unique))["balance"] == 100_000


async def test_first_use_and_the_registration_reaction_racing_open_one_wallet(wallet, unique):
    service, _ = wallet
    results = await asyncio.gather(
        service.open_wallet(unique, cause="registration"),
        service.request_top_up(unique, 100_000, "VND", "sandbox", open_if_missing=True),
    )
    assert results[1][1]  # the top-up was created whichever came first
    events = await events_of(service, unique)
    assert sum(isinstance(e, WalletOpened) for e in events) == 1


async def test_without_proof_of_the_account_nothing_is_opened(wallet, unique, mongo_db):
    service, _ = wallet
    with pytest.raises(DomainError) as err:
        await service.request_top_up(unique, 100_000, "VND", "sandbox")
    assert err.value.code == "wallet_not_found"
    assert await mongo_db["commits"].count_documents({}) == 0


# --- webhook amounts are bounded ---


@pytest.mark.parametrize("amount", [10**12 + 1, 10**18, 2**63, 2**64])
async def test_absurd_webhook_amounts_are_refused_and_store_nothing(
    wallet, unique, mongo_db, amount
):
    service, clock = wallet
    await service.open_wallet(unique, cause="registration")
    top_up, _ = await service.request_top_up(unique, 10_000, "VND", "sandbox")
    before = await stored(mongo_db)
    body, sig = signed(clock, top_up["payment"]["reference"], amount, f"evt-{amount}")
    with pytest.raises(InvalidWebhookBody) as err:
        await service.handle_webhook("sandbox", body, sig)
    assert err.value.status_code == 400 and err.value.code == "invalid_webhook_body"
    assert await stored(mongo_db) == before
    assert (await service.wallet_view(unique))["balance"] == 0


# --- payments held for review ---


async def held_payment(service: WalletService, clock: ManualClock, account: str) -> str:
    """A 100,000 top-up paid with 1,000,000: ten times what was asked, so held."""
    await service.open_wallet(account, cause="registration")
    top_up, _ = await service.request_top_up(account, 100_000, "VND", "sandbox")
    body, sig = signed(clock, top_up["payment"]["reference"], 1_000_000, f"evt-{account}")
    answer = await service.handle_webhook("sandbox", body, sig)
    assert answer["status"] == "held"
    return str(answer["hold_id"])


async def test_an_over_payment_is_held_visible_and_released_once_under_concurrency(wallet, unique):
    service, clock = wallet
    hold_id = await held_payment(service, clock, unique)
    view = await service.wallet_view(unique)
    assert view["balance"] == 0 and view["held"] == 1_000_000 and view["held_payments"] == 1
    listed = await service.list_holds(status="held", account_id=unique, limit=10, offset=0)
    assert [h["id"] for h in listed["items"]] == [hold_id]
    assert listed["items"][0]["hold_reason"] == "over_tolerance"
    assert listed["items"][0]["amount_requested"] == 100_000
    history = await service.transactions(unique, limit=10, offset=0)
    assert [(t["kind"], t["status"], t["amount"]) for t in history["items"]] == [
        ("held", "held", 1_000_000)
    ]

    results = await asyncio.gather(*(service.release_hold(hold_id, "staff-1") for _ in range(10)))
    assert {r["status"] for r in results} == {"released"}
    view = await service.wallet_view(unique)
    assert view["balance"] == 1_000_000 and view["held"] == 0
    credits = [e for e in await events_of(service, unique) if isinstance(e, WalletCredited)]
    assert [c.amount for c in credits] == [1_000_000]
    assert (await service.release_hold(hold_id, "staff-2"))["settled_by"] == "staff-1"
    listed = await service.list_holds(status="released", account_id=unique, limit=10, offset=0)
    assert [h["id"] for h in listed["items"]] == [hold_id]


async def test_a_held_payment_marked_for_refund_is_never_credited(wallet, unique):
    service, clock = wallet
    hold_id = await held_payment(service, clock, unique)
    results = await asyncio.gather(
        *(service.refund_hold(hold_id, "staff-1") for _ in range(5)),
        *(service.release_hold(hold_id, "staff-2") for _ in range(5)),
        return_exceptions=True,
    )
    settled = {r["status"] for r in results if isinstance(r, dict)}
    assert len(settled) == 1  # whichever came first; the others answer it or conflict
    conflicts = [r for r in results if isinstance(r, Exception)]
    assert all(getattr(r, "code", None) == "hold_already_settled" for r in conflicts)
    view = await service.wallet_view(unique)
    if settled == {"refund"}:
        assert view["balance"] == 0 and view["held"] == 0
    else:
        assert view["balance"] == 1_000_000 and view["held"] == 0


async def test_an_unknown_hold_is_not_found(wallet):
    service, _ = wallet
    with pytest.raises(DomainError) as err:
        await service.release_hold("no-such-hold", "staff-1")
    assert err.value.code == "hold_not_found"
