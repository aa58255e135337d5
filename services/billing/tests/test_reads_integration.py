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
