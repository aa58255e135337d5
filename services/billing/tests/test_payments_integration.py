"""Billing's payment saga in-process on the real wire server, against the real wallet
service (its own database) behind billing's wallet port: duplicates, retries, crashes and
concurrency, with every VND accounted for."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from portal_billing import domain, streams
from portal_billing.deps import PaymentInProgress
from portal_billing.models import (
    InvoiceOut,
    InvoiceRowOut,
    PayIn,
    RefundIn,
    RenewIn,
    SubscriptionOut,
    UpgradeIn,
)
from portal_billing.wallet import WalletUnavailable
from portal_chassis.auth import UNVERIFIED_MARK, Principal
from portal_chassis.decider import DomainError
from portal_chassis.problems import ProblemError
from portal_contracts.events.billing import InvoiceCancelled, InvoicePaid
from portal_contracts.events.wallet import TopUpCompleted

pytestmark = pytest.mark.integration
ADMIN = Principal("admin-1", "platform", frozenset({"billing_admin"}), "s2", "token")
PRO_12 = 2_160_000


async def fund(b: Any, amount: int) -> None:
    await b.wallet.service.credit(b.account, amount, "VND", "adjustment", "test", f"fund-{amount}")


async def balance(b: Any) -> int:
    return int((await b.wallet.balance(b.account))["balance"])


def paying(
    method: Literal["wallet", "sandbox", "bank_transfer"] = "wallet", amount: int | None = None
) -> PayIn:
    return PayIn(method=method, amount=amount)


async def test_a_crash_between_debit_and_record_is_healed_by_the_retry(billing, monkeypatch):
    b = billing
    await fund(b, 3_000_000)
    invoice = await b.service.place_order(b.owner, "host-pro", 12, "order-1")
    real_run = b.service.invoices.run
    crashes = {"left": 1}

    async def crash_once(stream: str, command: Any, **kwargs: Any) -> Any:
        if crashes["left"] and isinstance(command, domain.RecordPayment):
            crashes["left"] -= 1
            raise ConnectionError("the process died after the wallet debit")
        return await real_run(stream, command, **kwargs)

    monkeypatch.setattr(b.service.invoices, "run", crash_once)
    with pytest.raises(ConnectionError):
        await b.service.pay(b.owner, invoice.id, paying(), "pay-1")
    assert await balance(b) == 3_000_000 - PRO_12  # the money left the wallet...
    assert (await b.service.invoice(b.owner, invoice.id)).status == "unpaid"
    healed = await b.service.pay(b.owner, invoice.id, paying(), "pay-1")  # ...the retry
    assert healed.status == "paid" and healed.paid == PRO_12
    assert await balance(b) == 3_000_000 - PRO_12  # debited once
    again = await b.service.pay(b.owner, invoice.id, paying(), "pay-1")
    assert again.invoice_number == healed.invoice_number
    assert await balance(b) == 3_000_000 - PRO_12


async def test_the_same_order_request_twice_issues_one_invoice(billing):
    b = billing
    first = await b.service.place_order(b.owner, "host-pro", 12, "same-key")
    second = await b.service.place_order(b.owner, "host-pro", 12, "same-key")
    assert first.id == second.id
    with pytest.raises(DomainError) as err:
        await b.service.place_order(b.owner, "host-sup", 1, "same-key")
    assert err.value.code == "idempotency_key_reused"
    listed = await b.service.list_invoices(b.owner, status=None, kind=None, limit=10, offset=0)
    assert listed.total == 1


async def test_an_upgrade_buying_months_charges_one_invoice_once(billing):
    b = billing
    await fund(b, 20_000_000)
    bought = await b.service.place_order(b.owner, "host-pro", 12, None)
    await b.service.pay(b.owner, bought.id, paying(), "buy")
    sub_id = (await b.service.invoice(b.owner, bought.id)).subscription_id
    before = await b.service.subscription(b.owner, sub_id)
    assert before.ends_on is not None
    preview = await b.service.upgrade_preview(b.owner, sub_id, "host-prem", 12)
    assert preview.extension == 4_320_000 and preview.months == 12
    assert preview.amount_due == preview.charge + preview.extension
    assert preview.new_ends_on == before.ends_on.replace(year=before.ends_on.year + 1)
    start = await balance(b)
    body = UpgradeIn(plan_id="host-prem", months=12, expected_charge=preview.amount_due)
    first = await b.service.upgrade(b.owner, sub_id, body, "up-12")
    again = await b.service.upgrade(b.owner, sub_id, body, "up-12")  # a retried request
    assert first.id == again.id and again.status == "paid"
    assert first.total == preview.amount_due
    assert [line.amount for line in first.lines][-1] < 0  # the 10% discount line
    assert await balance(b) == start - preview.amount_due  # debited once
    after = await b.service.subscription(b.owner, sub_id)
    assert after.tier == "premium" and after.ends_on == preview.new_ends_on
    # The same body under another key is a new request: premium is already the plan.
    with pytest.raises(DomainError) as err:
        await b.service.upgrade(b.owner, sub_id, body, "up-12-again")
    assert err.value.code == "downgrade_not_allowed"
    assert await balance(b) == start - preview.amount_due


async def bought(b: Any, plan_id: str = "host-sup", months: int = 1) -> str:
    invoice = await b.service.place_order(b.owner, plan_id, months, None)
    await b.service.pay(b.owner, invoice.id, paying(), f"buy-{invoice.id}")
    return (await b.service.invoice(b.owner, invoice.id)).subscription_id


async def test_a_renewal_paid_in_part_as_chosen_keeps_the_rest_open_and_debits_once(billing):
    b = billing
    await fund(b, 1_000_000)
    sub_id = await bought(b)  # 100,000
    start = await balance(b)
    body = RenewIn(months=3, payment=paying(amount=120_000))
    first = await b.service.renew(b.owner, sub_id, body, "renew-part")
    again = await b.service.renew(b.owner, sub_id, body, "renew-part")  # a retried request
    assert first.id == again.id
    assert (again.status, again.total, again.paid) == ("partially_paid", 300_000, 120_000)
    assert await balance(b) == start - 120_000  # debited once
    # More than the total is refused before anything is issued.
    with pytest.raises(DomainError) as err:
        await b.service.renew(
            b.owner, sub_id, RenewIn(months=1, payment=paying(amount=100_001)), None
        )
    assert err.value.code == "amount_exceeds_due"
    listed = await b.service.list_invoices(b.owner, status=None, kind="renewal", limit=10, offset=0)
    assert listed.total == 1


async def test_a_renewal_by_the_wallet_chosen_first_stays_open_when_the_balance_is_short(billing):
    b = billing
    await fund(b, 150_000)
    sub_id = await bought(b)  # 100,000: 50,000 left
    with pytest.raises(DomainError) as err:
        await b.service.renew(b.owner, sub_id, RenewIn(months=3, payment=paying()), "short")
    assert err.value.code == "insufficient_balance"
    kept = await b.service.invoice(b.owner, err.value.extra["invoice_id"])
    assert (kept.status, kept.paid) == ("unpaid", 0)  # not withdrawn: pay it another way
    assert await balance(b) == 50_000
    by_transfer = await b.service.pay(b.owner, kept.id, paying("bank_transfer"), "qr")
    assert by_transfer.payment_request is not None
    assert by_transfer.payment_request.amount == 300_000


async def test_an_unverified_address_cannot_choose_a_payment_and_nothing_is_issued(billing):
    b = billing
    await fund(b, 500_000)
    sub_id = await bought(b)
    unverified = replace(b.owner, roles=b.owner.roles | {UNVERIFIED_MARK})
    with pytest.raises(ProblemError) as err:
        await b.service.renew(unverified, sub_id, RenewIn(months=1, payment=paying()), None)
    assert err.value.code == "email_unverified"
    listed = await b.service.list_invoices(b.owner, status=None, kind="renewal", limit=10, offset=0)
    assert listed.total == 0


@pytest.mark.parametrize("upgrade", [False, True])
async def test_an_unverified_address_cannot_pay_from_the_wallet_by_default_either(billing, upgrade):
    """Renewing or upgrading pays from the wallet unless told not to: a payment, which an
    unconfirmed address may not make, so nothing is issued and the balance stays."""
    b = billing
    await fund(b, 500_000)
    sub_id = await bought(b)
    unverified = replace(b.owner, roles=b.owner.roles | {UNVERIFIED_MARK})
    with pytest.raises(ProblemError) as err:
        if upgrade:
            await b.service.upgrade(
                unverified, sub_id, UpgradeIn(plan_id="host-pro", months=1), None
            )
        else:
            await b.service.renew(unverified, sub_id, RenewIn(months=1), None)
    assert err.value.code == "email_unverified"
    listed = await b.service.list_invoices(b.owner, status=None, kind=None, limit=10, offset=0)
    assert listed.total == 1  # only the purchase
    assert await balance(b) == 400_000
    # Leaving the invoice to pay later is not a payment.
    later = await b.service.renew(
        unverified, sub_id, RenewIn(months=1, pay_from_wallet=False), None
    )
    assert later.status == "unpaid" and await balance(b) == 400_000


async def test_bank_transfer_chosen_first_answers_the_vietqr(billing):
    b = billing
    await fund(b, 500_000)
    sub_id = await bought(b)
    answer = await b.service.renew(
        b.owner, sub_id, RenewIn(months=1, payment=paying("bank_transfer")), "renew-qr"
    )
    assert answer.status == "unpaid" and answer.payment_request is not None
    payment = answer.payment_request.model_dump()["payment"]
    assert payment["qr_payload"].startswith("000201")  # EMVCo
    assert await balance(b) == 400_000  # nothing taken from the wallet


async def test_a_retired_plan_is_renewed_by_its_subscribers(billing):
    b = billing
    await fund(b, 1_000_000)
    sub_id = await bought(b, "host-pro")
    await b.service.retire_plan(ADMIN, "host-pro")
    renewed = await b.service.renew(b.owner, sub_id, RenewIn(months=1), "renew-retired")
    assert renewed.status == "paid" and renewed.total == 200_000
    sub = await b.service.subscription(b.owner, sub_id)
    assert sub.plan_id == "host-pro"
    with pytest.raises(DomainError) as err:  # new customers cannot buy it
        await b.service.place_order(b.owner, "host-pro", 1, None)
    assert err.value.code == "plan_not_available"


@pytest.mark.parametrize("keys", ["none", "distinct", "same"])
async def test_concurrent_payments_of_one_invoice_debit_the_wallet_once(billing, keys):
    b = billing
    await fund(b, 10_000_000)
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    key = {"none": lambda n: None, "distinct": lambda n: f"k{n}", "same": lambda n: "k"}[keys]
    results = await asyncio.gather(
        *(b.service.pay(b.owner, invoice.id, paying(), key(n)) for n in range(20)),
        return_exceptions=True,
    )
    paid = await b.service.invoice(b.owner, invoice.id)
    assert paid.status == "paid" and paid.paid == PRO_12
    assert paid.payments_in_progress == []
    # The invoice's stream serialises the payments: one reserves what is due, the others
    # are refused before the wallet is called (none is debited and credited back).
    assert 10_000_000 - await balance(b) == PRO_12
    assert len(paid.payments) == 1 and paid.payments[0].excess_to_wallet == 0
    refused = {r.code for r in results if isinstance(r, DomainError)}
    assert refused <= {"payment_in_progress", "invoice_not_payable"}, results
    assert not [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, DomainError)
    ]
    if keys == "same":  # one request sent 20 times: every copy answers the paid invoice
        assert all(isinstance(r, InvoiceOut) and r.status == "paid" for r in results), results
    else:
        assert b.wallet.debit_calls == 1


class LateWallet:
    """The wallet commits the debit but billing's call times out before the answer."""

    def __init__(self, wallet: Any, late: int) -> None:
        self.wallet = wallet
        self.late = late

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wallet, name)

    async def debit(self, account_id, amount, currency, reference, key):  # type: ignore[no-untyped-def]
        answer = await self.wallet.debit(account_id, amount, currency, reference, key)
        if self.late:
            self.late -= 1
            raise WalletUnavailable("the wallet did not answer (ReadTimeout)")
        return answer


async def test_a_wallet_answering_after_the_timeout_is_finished_by_the_sweep(billing):
    b = billing
    await fund(b, 3_000_000)
    late = LateWallet(b.wallet, late=1)
    b.service.wallet = late
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    with pytest.raises(PaymentInProgress):
        await b.service.pay(b.owner, invoice.id, paying(), None)
    view = await b.service.invoice(b.owner, invoice.id)
    assert view.status == "unpaid"
    assert [p.amount for p in view.payments_in_progress] == [PRO_12]
    assert await balance(b) == 3_000_000 - PRO_12  # the debit happened
    # The customer clicks "pay" again at once (a new request, a new key): refused, not
    # debited a second time.
    with pytest.raises(DomainError) as err:
        await b.service.pay(b.owner, invoice.id, paying(), None)
    assert err.value.code == "payment_in_progress"
    assert await b.service.resume_payments() == 0  # too fresh: its request may still wait
    b.service.clock.advance(seconds=16)
    assert await b.service.resume_payments() == 1
    paid = await b.service.invoice(b.owner, invoice.id)
    assert paid.status == "paid" and paid.payments_in_progress == []
    assert await balance(b) == 3_000_000 - PRO_12
    assert await b.service.resume_payments() == 0
    listed = await b.service.list_invoices(b.owner, status="paid", kind=None, limit=10, offset=0)
    assert [row.id for row in listed.items] == [invoice.id]


async def test_a_crash_after_the_debit_then_a_new_request_debits_once(billing, monkeypatch):
    b = billing
    await fund(b, 3_000_000)
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    real_run = b.service.invoices.run

    async def die_before_recording(stream: str, command: Any, **kwargs: Any) -> Any:
        if isinstance(command, domain.RecordPayment):
            raise ConnectionError("killed between the wallet debit and the record")
        return await real_run(stream, command, **kwargs)

    monkeypatch.setattr(b.service.invoices, "run", die_before_recording)
    with pytest.raises(ConnectionError):
        await b.service.pay(b.owner, invoice.id, paying(), None)
    monkeypatch.setattr(b.service.invoices, "run", real_run)  # the restarted process
    assert await balance(b) == 3_000_000 - PRO_12
    b.service.clock.advance(seconds=16)
    # "Pay" again with a new request before any sweep: the payment left behind is
    # finished first (the wallet replays its debit), so nothing more is taken.
    with pytest.raises(DomainError) as err:
        await b.service.pay(b.owner, invoice.id, paying(), "a-new-key")
    assert err.value.code == "invoice_not_payable"
    paid = await b.service.invoice(b.owner, invoice.id)
    assert paid.status == "paid" and paid.paid == PRO_12
    assert await balance(b) == 3_000_000 - PRO_12


async def test_a_refused_debit_abandons_the_payment_and_frees_the_invoice(billing):
    b = billing
    await fund(b, 1_000_000)
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    with pytest.raises(DomainError) as err:
        await b.service.pay(b.owner, invoice.id, paying(), None)
    assert err.value.code == "insufficient_balance"
    view = await b.service.invoice(b.owner, invoice.id)
    assert view.status == "unpaid" and view.payments_in_progress == []
    assert await balance(b) == 1_000_000
    await fund(b, 2_000_000)
    paid = await b.service.pay(b.owner, invoice.id, paying(), None)
    assert paid.status == "paid"
    assert await balance(b) == 3_000_000 - PRO_12


async def test_a_list_row_skipped_by_a_crash_is_fed_again_from_the_events(billing, monkeypatch):
    b = billing
    await fund(b, 3_000_000)
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    real_refresh = streams.refresh_invoice_views

    async def crash(deps: Any, invoice_id: str, events: list[Any]) -> None:
        if any(isinstance(stored.event, InvoicePaid) for stored in events):
            raise ConnectionError("killed between the append and the list row")
        await real_refresh(deps, invoice_id, events)

    monkeypatch.setattr(streams, "refresh_invoice_views", crash)
    with pytest.raises(ConnectionError):
        await b.service.pay(b.owner, invoice.id, paying(), "k")
    monkeypatch.setattr(streams, "refresh_invoice_views", real_refresh)
    listed = await b.service.list_invoices(b.owner, status=None, kind=None, limit=10, offset=0)
    assert listed.items[0].status == "unpaid"  # the row missed the payment
    # billing.events delivers the stored events (at least once): the row catches up.
    for stored in await b.service.store.read_stream(domain.invoice_stream(invoice.id)):
        await b.service.on_own_event(stored, "billing")
    listed = await b.service.list_invoices(b.owner, status=None, kind=None, limit=10, offset=0)
    assert listed.items[0].status == "paid"
    assert await balance(b) == 3_000_000 - PRO_12


async def test_a_provider_payment_event_delivered_twice_is_applied_once(billing):
    b = billing
    invoice = await b.service.place_order(b.owner, "host-pro", 12, None)
    answer = await b.service.pay(b.owner, invoice.id, paying("bank_transfer"), "transfer-1")
    request = answer.payment_request
    assert request is not None and request.payment is not None
    top_up_id = request.top_up_id
    # The wallet credits the transfer (over-paid by 10,000), then tells billing, twice.
    await b.wallet.service.credit(b.account, PRO_12 + 10_000, "VND", "top_up", top_up_id, "t1")
    event = TopUpCompleted(
        occurred_at=datetime.now(UTC),
        account_id=b.account,
        top_up_id=top_up_id,
        provider="sandbox",
        reference=request.payment.reference,
        provider_event_id="evt-1",
        amount_requested=PRO_12,
        amount_received=PRO_12 + 10_000,
        currency="VND",
    )
    await asyncio.gather(b.service.on_top_up_completed(event), b.service.on_top_up_completed(event))
    await b.service.on_top_up_completed(event)
    paid = await b.service.invoice(b.owner, invoice.id)
    assert paid.status == "paid" and len(paid.payments) == 1
    assert paid.payments[0].excess_to_wallet == 10_000
    assert await balance(b) == 10_000


async def test_follow_ups_replayed_from_the_topic_change_nothing_more(billing):
    b = billing
    await fund(b, 1_200_000)
    first = await b.service.place_order(b.owner, "host-sup", 12, None)  # 1,080,000
    await b.service.pay(b.owner, first.id, paying(), "p1")
    second = await b.service.place_order(b.owner, "host-sup", 1, None)
    await b.service.pay(b.owner, second.id, paying(amount=40_000), "p2")
    await b.service.cancel(b.owner, second.id)
    after = await balance(b)
    events = [
        s.event
        for invoice_id in (first.id, second.id)
        for s in await b.service.store.read_stream(domain.invoice_stream(invoice_id))
    ]
    assert any(isinstance(e, InvoicePaid) for e in events)
    assert any(isinstance(e, InvoiceCancelled) for e in events)
    for _ in range(2):  # at-least-once delivery of billing.events
        for event in events:
            await b.service.follow_up(event)
    assert after == 1_200_000 - 1_080_000  # the stopped order's 40,000 came back
    assert await balance(b) == after
    subs = await b.service.list_subscriptions(b.owner, status=None, limit=10, offset=0)
    assert subs.total == 1


async def test_a_credit_the_wallet_refused_to_take_stays_pending_until_the_sweep(billing):
    b = billing
    await fund(b, 500_000)
    invoice = await b.service.place_order(b.owner, "host-sup", 3, None)  # 300,000
    await b.service.pay(b.owner, invoice.id, paying(amount=200_000), "part")
    real_credit = b.wallet.credit
    calls = {"n": 0}

    async def unreachable(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        raise WalletUnavailable("the wallet did not answer")

    b.wallet.credit = unreachable
    cancelled = await b.service.cancel(b.owner, invoice.id)  # owes 200,000 back
    assert cancelled.status == "cancelled" and calls["n"] == 1
    assert await balance(b) == 300_000  # not yet
    assert await b.service.pending_credits.count_documents({}) == 1
    assert await b.service.retry_credits() == 0  # still unreachable
    b.wallet.credit = real_credit
    assert await b.service.retry_credits() == 1
    assert await balance(b) == 500_000
    assert await b.service.pending_credits.count_documents({}) == 0
    # The follow-up delivered again from the topic credits nothing more.
    events = await b.service.store.read_stream(domain.invoice_stream(invoice.id))
    for stored in events:
        await b.service.follow_up(stored.event)
    assert await balance(b) == 500_000


async def _one_month_with_auto_renewal(b: Any) -> SubscriptionOut:
    """Auto-pay on, Support bought for 1 month (100,000), auto-renewal switched on."""
    await b.service.set_auto_pay(b.owner, True)
    await b.service.place_order(b.owner, "host-sup", 1, None)  # paid at once by auto-pay
    (sub,) = (await b.service.list_subscriptions(b.owner, status=None, limit=5, offset=0)).items
    on = await b.service.set_auto_renew(b.owner, sub.id, True, None)
    assert (on.auto_renew, on.auto_renew_months) == (True, 1)  # the period bought
    return on


async def renewals(b: Any) -> list[InvoiceRowOut]:
    listing = await b.service.list_invoices(
        b.owner, status=None, kind="renewal", limit=10, offset=0
    )
    return list(listing.items)


async def test_auto_renewal_issues_and_pays_one_renewal_per_term(billing):
    b = billing
    await fund(b, 300_000)
    sub = await _one_month_with_auto_renewal(b)
    assert await balance(b) == 200_000
    ends_on = sub.ends_on
    b.service.clock.advance(days=(ends_on - b.service.clock.now().date()).days - 10)
    await asyncio.gather(b.service.check_expiry(), b.service.check_expiry())  # two replicas
    await b.service.check_expiry()  # and the next sweep
    (renewal,) = await renewals(b)
    assert renewal.status == "paid" and renewal.total == 100_000
    assert await balance(b) == 100_000  # debited once
    after = await b.service.subscription(b.owner, sub.id)
    assert after.ends_on > sub.ends_on  # extended from the end date
    assert (after.ends_on - ends_on).days in (28, 29, 30, 31)


async def test_auto_renewal_without_funds_leaves_one_invoice_to_pay(billing):
    b = billing
    await fund(b, 100_000)
    sub = await _one_month_with_auto_renewal(b)
    ends_on = sub.ends_on
    b.service.clock.advance(days=(ends_on - b.service.clock.now().date()).days - 3)
    for _ in range(3):
        await b.service.check_expiry()
    (renewal,) = await renewals(b)  # one invoice, not one per sweep
    assert renewal.status == "unpaid" and renewal.amount_due == 100_000
    assert (await b.service.subscription(b.owner, sub.id)).ends_on == sub.ends_on
    await fund(b, 150_000)  # (fund's transaction id is per amount: 100,000 again is a no-op)
    await b.service.pay(b.owner, renewal.id, paying(), "pay-renewal")
    assert await balance(b) == 50_000
    assert (await b.service.subscription(b.owner, sub.id)).ends_on > sub.ends_on


async def test_concurrent_refunds_never_return_more_than_was_paid(billing):
    b = billing
    await fund(b, 300_000)
    invoice = await b.service.place_order(b.owner, "host-sup", 3, None)  # 300,000
    await b.service.pay(b.owner, invoice.id, paying(), "pay-all")
    assert await balance(b) == 0
    admin = Principal("admin-1", "platform", frozenset({"billing_admin"}), "s2", "token")
    results = await asyncio.gather(
        *(
            b.service.refund(admin, invoice.id, RefundIn(amount=100_000, reason="four times"))
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "refund_too_large", results
    await b.service.retry_credits()  # any credit the wallet did not take at once
    assert await balance(b) == 300_000  # every refund credited once, none twice
    assert (await b.service.invoice(b.owner, invoice.id)).refunded == 300_000
