"""The typed answers publish exactly what the use cases answered before they were typed:
no key lost, none added, the same JSON on the wire (in-process, real wire server)."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import pytest
from litestar.serialization import encode_json
from pydantic import BaseModel

from portal_billing import domain
from portal_billing.models import (
    ClaimIn,
    ClaimOut,
    ContractOut,
    InvoiceOut,
    InvoiceRowOut,
    PayIn,
    PlanOut,
    PlanRowOut,
    RejectIn,
    RenewIn,
    SubscriptionOut,
    UpgradeIn,
)
from portal_billing.views import claim_out, plan_row, strip_id, without
from portal_chassis.auth import Principal
from portal_chassis.contract import FileIn

pytestmark = pytest.mark.integration
ADMIN = Principal("admin-1", "platform", frozenset({"billing_admin"}), "s2", "token")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def same_json(model: type[BaseModel], answer: dict[str, Any]) -> None:
    """What the route sends now == what it sent when it returned the use case's dict."""
    assert model.model_validate(answer).model_dump(mode="json") == json.loads(encode_json(answer))


async def invoice_rows(b: Any) -> list[dict[str, Any]]:
    """The invoice list's rows as the use case answered them before they were typed."""
    cursor = b.service.invoices_view.find({"account_id": b.account})
    return [{"id": r.pop("_id"), **without(r, "version")} async for r in cursor]


async def test_invoices_and_claims_keep_their_keys(billing):
    b = billing
    s = b.service
    await b.wallet.service.credit(b.account, 5_000_000, "VND", "adjustment", "t", "fund")
    unpaid = await s.place_order(b.owner, "host-pro", 12, None)
    same_json(InvoiceOut, await s._invoice_view(unpaid.id))
    partly = await s.place_order(b.owner, "host-sup", 3, None)
    await s.pay(b.owner, partly.id, PayIn(amount=100_000), "part")
    same_json(InvoiceOut, await s._invoice_view(partly.id))
    cancelled = await s.cancel(b.owner, partly.id)
    view = await s._invoice_view(partly.id)
    assert {"cancelled_at", "cancel_reason", "refunded_to_wallet"} <= set(view)
    same_json(InvoiceOut, view)
    assert cancelled.model_dump(mode="json") == json.loads(encode_json(view))

    # A claim with a proof file, one approved and one rejected: the invoice lists them.
    proof = FileIn(filename="proof.png", content_base64=base64.b64encode(PNG).decode())
    claim = ClaimIn(reference="FT123", amount=1_000, paid_on=date(2026, 3, 1), proof=proof)
    filed = await s.file_claim(b.owner, unpaid.id, claim, "c1")
    other = await s.file_claim(b.owner, unpaid.id, ClaimIn(reference="FT456", amount=5), "c2")
    await s.decide_claim(ADMIN, filed.id, True, "")
    await s.decide_claim(ADMIN, other.id, False, RejectIn(reason="no such transfer").reason)
    view = await s._invoice_view(unpaid.id)
    assert len(view["claims"]) == 2
    same_json(InvoiceOut, view)
    async for row in s.claims_view.find({"account_id": b.account}):
        same_json(ClaimOut, claim_out(row, s.clock.now()))

    paid = await s.pay(b.owner, unpaid.id, PayIn(), "all")
    assert paid.status == "paid"
    same_json(InvoiceOut, await s._invoice_view(unpaid.id))
    rows = await invoice_rows(b)
    assert {r["status"] for r in rows} == {"paid", "cancelled"}
    for row in rows:
        same_json(InvoiceRowOut, row)


async def test_a_provider_payment_answers_how_to_pay(billing):
    b = billing
    invoice = await b.service.place_order(b.owner, "host-sup", 1, None)
    answer = await b.service.pay(b.owner, invoice.id, PayIn(method="bank_transfer"), "bt")
    dumped = answer.model_dump(mode="json")
    request = dumped.pop("payment_request")
    assert dumped == json.loads(encode_json(await b.service._invoice_view(invoice.id)))
    (top_up,) = (await b.wallet.service.list_top_ups(b.account, 20, 0))["items"]
    assert set(request) == {"top_up_id", "status", "amount", "currency", "payment"}
    assert request["top_up_id"] == top_up["id"]
    shown = await b.wallet.service.get_top_up(b.account, top_up["id"])
    assert request["payment"] == json.loads(encode_json(shown["payment"]))
    assert "qr_payload" in request["payment"]
    # Without a payment request, the key is absent (not null), as it always was.
    assert "payment_request" not in (await b.service.invoice(b.owner, invoice.id)).model_dump()


async def test_plans_subscriptions_and_contracts_keep_their_keys(billing):
    b = billing
    s = b.service
    await b.wallet.service.credit(b.account, 9_000_000, "VND", "adjustment", "t", "fund")
    same_json(PlanOut, plan_row(await s.plan("host-pro")))
    async for row in s.plans_view.find({}):
        same_json(PlanRowOut, strip_id(row))

    invoice = await s.place_order(b.owner, "host-sup", 1, None)
    await s.pay(b.owner, invoice.id, PayIn(), "new")
    sub_id = (await s.invoice(b.owner, invoice.id)).subscription_id
    await s.renew(b.owner, sub_id, RenewIn(months=1), "renew")
    preview = await s.upgrade_preview(b.owner, sub_id, "host-pro")
    dumped = preview.model_dump(mode="json")
    assert set(dumped) == {
        "subscription_id",
        "from",
        "to",
        "effective_on",
        "ends_on",
        "remaining_days",
        "period_days",
        "credit",
        "charge",
        "months",
        "extension",
        "new_ends_on",
        "amount_due",
        "currency",
        "rounding",
    }
    assert dumped["from"]["plan_id"] == "host-sup" and dumped["to"]["plan_id"] == "host-pro"
    upgrade = UpgradeIn(plan_id="host-pro", expected_charge=preview.charge)
    await s.upgrade(b.owner, sub_id, upgrade, "upgrade")

    # The term runs out: a notice, then the end.
    ends_on = (await s.subscription(b.owner, sub_id)).ends_on
    assert ends_on is not None
    s.clock.advance(days=(ends_on - s.clock.now().date()).days - 3)
    await s.check_expiry()
    s.clock.advance(days=4)
    await s.check_expiry()

    contract = await s._contract_view(b.owner, sub_id)
    events = [h["event"] for h in contract["history"]]
    assert events == ["started", "renewed", "upgraded", "expiring", "expired"]
    same_json(ContractOut, contract)
    same_json(SubscriptionOut, without(contract, "history"))
    state, _ = await s.subscriptions.load(domain.subscription_stream(sub_id))
    assert state.status == "expired"
    async for row in s.subscriptions_view.find({"account_id": b.account}):
        row["id"] = row.pop("_id")
        row.pop("version", None)
        row["days_left"] = (date.fromisoformat(row["ends_on"]) - s.clock.now().date()).days
        same_json(SubscriptionOut, row)
