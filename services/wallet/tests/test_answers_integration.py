"""The typed answers publish exactly what the use cases answered before they were typed:
no key lost, none added, the same JSON on the wire (in-process, real wire server)."""

import json
import uuid
from typing import Any

import pytest
from litestar.serialization import encode_json
from pydantic import BaseModel

from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import WalletCredited, WalletDebited
from portal_wallet import domain
from portal_wallet.models import (
    BalanceAtOut,
    HoldOut,
    MoneyResultOut,
    TopUpOut,
    TransactionsPage,
    WalletOut,
    WebhookOut,
)
from portal_wallet.payments import sign
from portal_wallet.projections import TransactionsProjection

pytestmark = pytest.mark.integration
SECRET = "s3cret"  # the sandbox secret of the `wallet` fixture (conftest.py)


def same_json(model: type[BaseModel], answer: dict[str, Any]) -> None:
    """What the route sends now == what it sent when it returned the use case's dict."""
    assert model.model_validate(answer).model_dump(mode="json") == json.loads(encode_json(answer))


def webhook_body(clock: Any, ref: str, amount: int, event_id: str) -> tuple[bytes, str]:
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


async def project(service: Any, mongo_db: Any, account_id: str) -> None:
    """Feed the account's credits and debits to the history as Kafka would."""
    projection = TransactionsProjection(mongo_db)
    stream = domain.stream_id(account_id)
    for stored in await service.store.read_stream(stream):
        event: DomainEvent = stored.event
        if isinstance(event, WalletCredited | WalletDebited):
            envelope = EventEnvelope(
                id=str(uuid.uuid4()),
                source="/portal/wallet",
                type=event.event_type,
                subject=stream,
                time=event.occurred_at,
                streamversion=stored.version,
                data=event.model_dump(mode="json"),
            )
            await projection.handle(envelope, event)


async def test_every_answer_keeps_its_keys(wallet, unique, mongo_db):
    service, clock = wallet
    await service.open_wallet(unique, cause="registration")
    paid, created = await service.request_top_up(unique, 100_000, "VND", "bank_transfer")
    assert created and "qr_payload" in paid["payment"]
    same_json(TopUpOut, paid)
    held, _ = await service.request_top_up(unique, 100_000, "VND", "sandbox")
    assert "qr_payload" not in held["payment"]
    same_json(TopUpOut, held)

    body, sig = webhook_body(clock, paid["payment"]["reference"], 100_000, "evt-paid")
    same_json(WebhookOut, await service.handle_webhook("sandbox", body, sig))
    body, sig = webhook_body(clock, held["payment"]["reference"], 1_000_000, "evt-held")
    answer = await service.handle_webhook("sandbox", body, sig)
    assert answer["status"] == "held"
    same_json(WebhookOut, answer)

    same_json(TopUpOut, await service.get_top_up(unique, paid["id"]))
    listed = await service.list_top_ups(unique, 20, 0)
    assert all("qr_payload" not in t["payment"] for t in listed["items"])
    for item in listed["items"]:
        same_json(TopUpOut, item)
    same_json(WalletOut, await service.wallet_view(unique))
    same_json(BalanceAtOut, await service.balance_at(unique, clock.now()))

    holds = await service.list_holds(status="held", account_id=unique, limit=20, offset=0)
    [hold] = holds["items"]
    same_json(HoldOut, hold)
    same_json(HoldOut, await service.release_hold(hold["id"], "staff-1"))
    credit = await service.credit(unique, 5_000, "VND", "adjustment", "ADJ-1", "k-credit")
    same_json(MoneyResultOut, credit)
    same_json(
        MoneyResultOut, await service.debit(unique, 1_000, "VND", "purchase", "ORD-1", "k-order")
    )

    await project(service, mongo_db, unique)
    history = await service.transactions(unique, limit=20, offset=0)
    assert {t["kind"] for t in history["items"]} == {"credit", "debit", "held"}
    same_json(TransactionsPage, history)
