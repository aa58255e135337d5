"""The billing part of the customer dashboard, per reader (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_gateway.dashboard_billing import BillingPart

TODAY = date(2026, 12, 1)


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
