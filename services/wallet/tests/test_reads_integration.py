"""A top-up reads the account's event stream once: its request on a replica that has not
seen the account yet (and looks its Idempotency-Key up once), and the provider's webhook
on another."""

import json
from datetime import timedelta

import pytest

from portal_chassis.counting import CountingEventStore
from portal_wallet import domain
from portal_wallet.handlers import WalletService
from portal_wallet.payments import SandboxProvider, sign

pytestmark = pytest.mark.integration
SECRET = "s3cret"


def replica(wallet: tuple[WalletService, object]) -> tuple[WalletService, CountingEventStore]:
    """Another process of the same wallet: nothing in memory, its reads counted."""
    service, clock = wallet
    store = CountingEventStore(service.store)
    provider = SandboxProvider(
        SECRET, expiry=timedelta(minutes=15), bank_bin="970436", bank_account="1"
    )
    fresh = WalletService(store, service.db, service.settings, {"sandbox": provider}, clock)  # type: ignore[arg-type]
    return fresh, store


async def test_a_top_up_reads_the_account_stream_once(wallet, unique):
    service, clock = wallet
    await service.open_wallet(unique, cause="test-registration")
    stream = domain.stream_id(unique)
    requesting, store = replica(wallet)
    top_up, created = await requesting.request_top_up(
        unique, 100_000, "VND", "bank_transfer", idempotency_key="k1"
    )
    assert created and top_up["status"] == "pending"
    assert dict(store.reads) == {stream: 1}
    assert dict(store.key_lookups) == {stream: 1}  # the request's key, looked up once
    webhooks, store = replica(wallet)
    reference = top_up["payment"]["reference"]
    body = json.dumps(
        {"id": "evt-1", "type": "payment.succeeded", "reference": reference, "amount": 100_000}
        | {"currency": "VND"}
    ).encode()
    answer = await webhooks.handle_webhook(
        "sandbox", body, sign(SECRET, body, int(clock.now().timestamp()))
    )
    assert answer["status"] == "processed"
    assert dict(store.reads) == {stream: 1}
    assert (await webhooks.wallet_view(unique))["balance"] == 100_000
