"""The billing part of the customer dashboard, per reader (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.billing import InvoiceIssued, InvoiceLine, InvoicePaymentRecorded
from portal_gateway.dashboard_billing import BillingPart

TODAY = date(2026, 12, 1)
ENVELOPE = cast(EventEnvelope, None)  # the billing part reads the event only


def issued(at: datetime) -> InvoiceIssued:
    return InvoiceIssued(
        occurred_at=at,
        account_id="acc-1",
        invoice_id=f"inv-{at:%d}",
        proforma_number="PF-1",
        order_id="OD-1",
        order_kind="new",
        subscription_id="sub-1",
        plan_id="host-sup",
        plan_code="HOST-SUP",
        plan_name="Hosting Support",
        category="hosting",
        tier="support",
        months=1,
        lines=[InvoiceLine(description="x", amount=150_000)],
        total=150_000,
        currency="VND",
        due_at=at,
    )


def recorded(at: datetime, applied: int) -> InvoicePaymentRecorded:
    return InvoicePaymentRecorded(
        occurred_at=at,
        account_id="acc-1",
        invoice_id=f"inv-{at:%d}",
        payment_id="p-1",
        channel="wallet",
        amount=applied,
        applied=applied,
        amount_due_after=0,
        currency="VND",
        reference="PF-1",
    )


def doc() -> dict[str, object]:
    sub = {
        "contract_number": "HD-2026-000001",
        "plan_name": "Hosting Support",
        "tier": "support",
        "status": "active",
        "ends_on": (TODAY + timedelta(days=10)).isoformat(),
    }
    invoice = {"proforma_number": "PF-1", "amount_due": 100_000}
    return {"billing": {"subscriptions": {"sub-1": sub}, "open_invoices": {"inv-1": invoice}}}


def test_an_account_staff_user_sees_the_expiry_notice_and_no_contracts_or_money() -> None:
    part = BillingPart(ManualClock(datetime(2026, 12, 1, 9, tzinfo=UTC)))
    member = Principal("u2", "acc-1", frozenset({"staff"}), "s", "t")
    owner = Principal("u1", "acc-1", frozenset({"owner"}), "s", "t")
    seen = part.render(doc(), member)
    assert seen is not None
    assert [n["days_left"] for n in seen["subscription_notices"]] == [10]
    assert "services" not in seen and "open_invoices" not in seen
    full = part.render(doc(), owner)
    assert full is not None and full["services"]["active"] == 1 and full["open_invoices"]


async def test_the_orders_chart_counts_orders_and_spending_per_month_of_the_business() -> None:
    # 2026-11-30 18:00 UTC is already 1 December in Ho Chi Minh City.
    part = BillingPart(ManualClock(datetime(2026, 12, 1, 9, tzinfo=UTC)))
    owner = Principal("u1", "acc-1", frozenset({"owner"}), "s", "t")
    late = datetime(2026, 11, 30, 18, tzinfo=UTC)
    state: dict[str, Any] = {}
    for event in (issued(late), recorded(late, 150_000), issued(datetime(2026, 11, 2, tzinfo=UTC))):
        update = await part.account_update(state, ENVELOPE, event)
        assert update is not None
        state = {
            "billing": {
                **state.get("billing", {}),
                **{k.removeprefix("billing."): v for k, v in update["$set"].items()},
            }
        }
    seen = part.render(state, owner)
    assert seen is not None
    chart = seen["orders_chart"]
    assert len(chart) == 12 and chart[-1]["month"] == "2026-12"
    assert chart[-1] == {"month": "2026-12", "orders": 1, "spent": 150_000}
    assert chart[-2] == {"month": "2026-11", "orders": 1, "spent": 0}
    member = Principal("u2", "acc-1", frozenset({"staff"}), "s", "t")
    assert "orders_chart" not in (part.render(state, member) or {})
