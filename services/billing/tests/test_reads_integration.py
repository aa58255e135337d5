"""An invoice payment reads each event stream it touches once: the invoice's (loaded for
the request, then held in memory by its commands, its list row and its answer), the
subscription's and the plan's it starts, and the wallet's it debits."""

from __future__ import annotations

import pytest

from portal_billing import domain
from portal_billing.models import PayIn
from portal_wallet.domain import stream_id as wallet_stream

pytestmark = pytest.mark.integration


async def test_a_payment_reads_each_stream_it_touches_once(billing):
    b = billing
    await b.wallet.service.credit(b.account, 3_000_000, "VND", "adjustment", "test", "fund")
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    b.store.reset()
    b.wallet_store.reset()
    paid = await b.service.pay(b.owner, invoice.id, PayIn(method="wallet", amount=None), "k")
    assert paid.status == "paid" and paid.invoice_number
    (sub,) = (await b.service.list_subscriptions(b.owner, status=None, limit=5, offset=0)).items
    assert dict(b.store.reads) == {
        domain.invoice_stream(invoice.id): 1,
        domain.subscription_stream(sub.id): 1,
        domain.plan_stream("host-pro"): 1,
    }
    # The wallet held the account's stream in memory since the funding credit.
    assert b.wallet_store.reads[wallet_stream(b.account)] <= 1
    assert dict(b.wallet_store.key_lookups) == {wallet_stream(b.account): 1}  # the debit's


async def test_billing_events_fold_onto_the_invoice_row_without_reading_the_stream(billing):
    """The billing.events consumer refreshes the lists from the event it got: replaying a
    whole invoice onto a lost row reads the invoice's stream not once; an event that does
    not follow on from the row (a gap a crash left) reads it once."""
    b = billing
    await b.wallet.service.credit(b.account, 3_000_000, "VND", "adjustment", "test", "fund")
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    await b.service.pay(b.owner, invoice.id, PayIn(method="wallet", amount=40_000), "part")
    await b.service.pay(b.owner, invoice.id, PayIn(method="wallet", amount=None), "rest")
    stream = domain.invoice_stream(invoice.id)
    events = await b.store.read_stream(stream)
    assert len(events) >= 4

    await b.service.invoices_view.delete_one({"_id": invoice.id})  # the row is lost
    b.store.reset()
    for stored in events:  # billing.events delivers the invoice, event by event
        await b.service.on_own_event(stored, "billing")
    assert b.store.reads[stream] == 0
    row = await b.service.invoices_view.find_one({"_id": invoice.id})
    assert (row["status"], row["version"]) == ("paid", events[-1].version)

    await b.service.invoices_view.delete_one({"_id": invoice.id})
    b.store.reset()
    await b.service.on_own_event(events[-1], "billing")  # no row to fold onto: read once
    assert b.store.reads[stream] == 1
    row = await b.service.invoices_view.find_one({"_id": invoice.id})
    assert (row["status"], row["version"]) == ("paid", events[-1].version)
