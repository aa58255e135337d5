"""The service setup status of an order, from its invoice and the subscription. No I/O."""

from __future__ import annotations

from portal_billing.queries import provisioning


def test_an_order_is_set_up_once_its_subscription_carried_it_out() -> None:
    assert provisioning("unpaid", False, 0) == "awaiting_payment"
    assert provisioning("partially_paid", False, 0) == "awaiting_payment"
    assert provisioning("paid", False, 0) == "in_progress"
    assert provisioning("paid", True, 0) == "done"
    assert provisioning("paid", True, 100_000) == "done"  # a later refund keeps it set up
    assert provisioning("cancelled", False, 0) == "cancelled"
    assert provisioning("paid", False, 2_160_000) == "failed"  # not applicable, refunded
