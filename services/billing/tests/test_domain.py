"""Given events / when command / then events for billing. No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal_billing import domain
from portal_billing.domain import (
    Invoice,
    InvoiceNumberNeeded,
    Plan,
    Subscription,
    add_months,
    decide_invoice,
    decide_plan,
    decide_subscription,
    invoice_decider,
    subscription_decider,
    upgrade_quote,
)
from portal_chassis.decider import Conflict, DomainError, NotFound
from portal_contracts.events.billing import (
    AutoRenewChanged,
    InvoiceCancelled,
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
    InvoicePaymentAbandoned,
    InvoicePaymentRecorded,
    InvoicePaymentStarted,
    InvoiceRefunded,
    PaymentClaimApproved,
    PaymentClaimFiled,
    PaymentClaimRejected,
    PeriodPrice,
    PlanPublished,
    PlanUpgraded,
    SubscriptionExpired,
    SubscriptionExpiring,
    SubscriptionRenewed,
    SubscriptionStarted,
)

NOW = datetime(2026, 1, 10, 9, tzinfo=UTC)
TODAY = NOW.date()
PERIODS = (
    PeriodPrice(months=1),
    PeriodPrice(months=12, discount_percent=10),
    PeriodPrice(months=24, discount_percent=15),
)


def plan(tier: str = "professional", monthly: int = 200_000, **kw: object) -> Plan:
    fields: dict[str, object] = dict(
        status="active",
        plan_id=f"host-{tier}",
        code=f"HOST-{tier.upper()}",
        name=f"Hosting {tier}",
        category="hosting",
        tier=tier,
        monthly_price=monthly,
        currency="VND",
        periods=PERIODS,
    )
    fields.update(kw)
    return Plan(**fields)  # type: ignore[arg-type]


PRO = plan()
PREMIUM = plan("premium", 400_000)
SUPPORT = plan("support", 100_000)


def issue(total: int = 2_160_000, **kw: object) -> domain.IssueInvoice:
    fields: dict[str, object] = dict(
        now=NOW,
        invoice_id="inv-1",
        account_id="acc-1",
        proforma_number="PF-2026-000001",
        order_id="OD-2026-000001",
        order_kind="new",
        subscription_id="sub-1",
        plan=PRO,
        months=12,
        lines=(InvoiceLine(description="Hosting professional x 12", amount=total),),
        due_at=NOW + timedelta(days=7),
    )
    fields.update(kw)
    return domain.IssueInvoice(**fields)  # type: ignore[arg-type]


def given_invoice(*commands: domain.InvoiceCommand) -> Invoice:
    state = invoice_decider.initial_state
    for command in commands:
        state = invoice_decider.fold(state, decide_invoice(command, state))
    return state


def pay(
    payment_id: str, amount: int, channel: str = "wallet", **kw: object
) -> domain.RecordPayment:
    return domain.RecordPayment(
        now=NOW,
        payment_id=payment_id,
        channel=channel,  # type: ignore[arg-type]
        amount=amount,
        reference="PF-2026-000001",
        invoice_number=kw.pop("invoice_number", "INV-2026-000001"),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ catalogue


def test_period_price_applies_the_discount_rounded_down() -> None:
    odd = plan(monthly=199_999)
    assert PRO.price(1) == 200_000
    assert PRO.price(12) == 2_160_000
    assert odd.price(12) == 199_999 * 12 * 90 // 100 == 2_159_989


def test_a_period_the_plan_is_not_sold_for_is_refused() -> None:
    with pytest.raises(DomainError) as err:
        PRO.price(6)
    assert err.value.code == "period_not_allowed"
    assert err.value.extra["allowed"] == [1, 12, 24]


def test_publishing_a_plan_twice_is_a_no_op_and_bad_terms_are_refused() -> None:
    command = domain.PublishPlan(
        now=NOW,
        plan_id="host-pro",
        code="HOST-PRO",
        name="Hosting Pro",
        category="hosting",
        tier="professional",
        monthly_price=200_000,
        currency="VND",
        periods=PERIODS,
    )
    events = decide_plan(command, Plan())
    assert [type(e) for e in events] == [PlanPublished]
    state = domain.plan_decider.fold(Plan(), events)
    assert decide_plan(command, state) == []
    with pytest.raises(DomainError) as err:
        decide_plan(
            domain.PublishPlan(**{**command.__dict__, "periods": (PeriodPrice(months=5),)}), Plan()
        )
    assert err.value.code == "period_not_allowed"
    with pytest.raises(DomainError):
        decide_plan(domain.PublishPlan(**{**command.__dict__, "monthly_price": 0}), Plan())
    retired = domain.plan_decider.fold(state, decide_plan(domain.RetirePlan(now=NOW), state))
    assert retired.status == "retired"
    with pytest.raises(Conflict):
        decide_plan(domain.ChangePlan(now=NOW, name="x", monthly_price=1, periods=PERIODS), retired)


# ------------------------------------------------------------------ invoices


def test_paying_in_full_turns_the_proforma_into_a_numbered_invoice() -> None:
    state = given_invoice(issue())
    events = decide_invoice(pay("p1", 2_160_000), state)
    assert [type(e) for e in events] == [InvoicePaymentRecorded, InvoicePaid]
    recorded, paid = events
    assert isinstance(recorded, InvoicePaymentRecorded) and isinstance(paid, InvoicePaid)
    assert (recorded.applied, recorded.excess, recorded.amount_due_after) == (2_160_000, 0, 0)
    assert paid.invoice_number == "INV-2026-000001"
    assert paid.amount_spent == 2_160_000


def test_a_completing_payment_without_an_invoice_number_asks_for_one() -> None:
    state = given_invoice(issue())
    with pytest.raises(InvoiceNumberNeeded):
        decide_invoice(pay("p1", 2_160_000, invoice_number=None), state)
    # A partial payment needs no number.
    assert len(decide_invoice(pay("p1", 1_000, invoice_number=None), state)) == 1


def test_the_use_case_can_tell_which_commands_need_the_invoice_number() -> None:
    """The number is allocated before deciding, for exactly the commands that complete."""
    unpaid = given_invoice(issue())
    assert domain.needs_invoice_number(pay("p1", 2_160_000, invoice_number=None), unpaid)
    assert domain.needs_invoice_number(pay("p1", 9_000_000, invoice_number=None), unpaid)
    assert not domain.needs_invoice_number(pay("p1", 1_000, invoice_number=None), unpaid)
    part = given_invoice(issue(), pay("p1", 1_000))
    assert domain.needs_invoice_number(pay("p2", 2_159_000, invoice_number=None), part)
    assert not domain.needs_invoice_number(pay("p1", 2_159_000, invoice_number=None), part)
    paid = given_invoice(issue(), pay("p1", 2_160_000))
    assert not domain.needs_invoice_number(pay("p2", 5, invoice_number=None), paid)
    free = (InvoiceLine(description="x", amount=100), InvoiceLine(description="-", amount=-100))
    assert domain.needs_invoice_number(issue(lines=free), Invoice())
    assert not domain.needs_invoice_number(issue(), Invoice())
    claimed = given_invoice(issue(), claim_cmd())
    approve = domain.ApproveClaim(
        now=NOW, claim_id="c1", reviewer="staff", payment_id="cp1", invoice_number=None
    )
    assert domain.needs_invoice_number(approve, claimed)
    assert not domain.needs_invoice_number(replace(approve, claim_id="nope"), claimed)


def test_partial_payments_leave_the_rest_due_then_complete() -> None:
    state = given_invoice(issue(), pay("p1", 1_000_000))
    assert state.status == "partially_paid"
    assert state.due == 1_160_000
    events = decide_invoice(pay("p2", 1_160_000), state)
    assert isinstance(events[-1], InvoicePaid)
    assert invoice_decider.fold(state, events).status == "paid"


def test_over_payment_applies_what_is_due_and_credits_the_excess() -> None:
    state = given_invoice(issue(), pay("p1", 2_000_000))
    (recorded, paid) = decide_invoice(pay("p2", 500_000, channel="claim"), state)
    assert isinstance(recorded, InvoicePaymentRecorded)
    assert (recorded.applied, recorded.excess, recorded.credited_to_wallet) == (
        160_000,
        340_000,
        340_000,
    )
    assert isinstance(paid, InvoicePaid)


def test_provider_money_beyond_what_was_taken_is_excess_that_never_left_the_wallet() -> None:
    state = given_invoice(issue())
    recorded = decide_invoice(
        pay("p1", 2_160_000, channel="provider", kept_in_wallet=40_000), state
    )[0]
    assert isinstance(recorded, InvoicePaymentRecorded)
    assert recorded.amount == 2_200_000
    assert recorded.excess == 40_000
    assert recorded.credited_to_wallet == 0


def test_a_payment_recorded_twice_counts_once() -> None:
    state = given_invoice(issue(), pay("p1", 1_000))
    assert decide_invoice(pay("p1", 1_000), state) == []


def test_money_arriving_for_a_paid_invoice_all_goes_back_to_the_wallet() -> None:
    state = given_invoice(issue(), pay("p1", 2_160_000))
    (recorded,) = decide_invoice(pay("p2", 50_000), state)
    assert isinstance(recorded, InvoicePaymentRecorded)
    assert (recorded.applied, recorded.credited_to_wallet) == (0, 50_000)


def test_stopping_a_partly_paid_order_refunds_what_was_paid() -> None:
    state = given_invoice(issue(), pay("p1", 700_000))
    (cancelled,) = decide_invoice(domain.CancelInvoice(now=NOW, reason="customer_stopped"), state)
    assert isinstance(cancelled, InvoiceCancelled)
    assert cancelled.refunded_to_wallet == 700_000
    done = invoice_decider.fold(state, [cancelled])
    assert done.due == 0
    assert decide_invoice(domain.CancelInvoice(now=NOW, reason="customer_stopped"), done) == []


def test_a_paid_invoice_cannot_be_cancelled() -> None:
    state = given_invoice(issue(), pay("p1", 2_160_000))
    with pytest.raises(Conflict) as err:
        decide_invoice(domain.CancelInvoice(now=NOW, reason="customer_stopped"), state)
    assert err.value.code == "invoice_paid"


def test_an_unknown_invoice_is_not_found() -> None:
    with pytest.raises(NotFound):
        decide_invoice(pay("p1", 1), Invoice())


def test_a_zero_total_invoice_is_paid_when_issued() -> None:
    lines = (
        InvoiceLine(description="x", amount=100),
        InvoiceLine(description="credit", amount=-100),
    )
    with pytest.raises(InvoiceNumberNeeded):
        decide_invoice(issue(lines=lines), Invoice())
    events = decide_invoice(issue(lines=lines, invoice_number="INV-2026-000009"), Invoice())
    assert [type(e) for e in events] == [InvoiceIssued, InvoicePaid]


def claim_cmd(claim_id: str = "c1", reference: str = "FT123", amount: int = 2_160_000):
    return domain.FileClaim(
        now=NOW,
        claim_id=claim_id,
        reference=reference,
        amount=amount,
        paid_on=TODAY,
        proof_file_id=None,
        review_due_at=NOW + timedelta(hours=24),
    )


def test_an_approved_claim_records_the_payment() -> None:
    state = given_invoice(issue(), claim_cmd())
    assert state.claim("c1").status == "under_review"
    events = decide_invoice(
        domain.ApproveClaim(
            now=NOW, claim_id="c1", reviewer="s1", payment_id="cp1", invoice_number="INV-1"
        ),
        state,
    )
    assert [type(e) for e in events] == [PaymentClaimApproved, InvoicePaymentRecorded, InvoicePaid]
    done = invoice_decider.fold(state, events)
    assert done.status == "paid" and done.claim("c1").status == "approved"
    with pytest.raises(Conflict):
        decide_invoice(domain.RejectClaim(now=NOW, claim_id="c1", reviewer="s1", reason="no"), done)


def test_a_rejected_claim_needs_a_reason_and_changes_no_money() -> None:
    state = given_invoice(issue(), claim_cmd())
    with pytest.raises(DomainError):
        decide_invoice(domain.RejectClaim(now=NOW, claim_id="c1", reviewer="s", reason=" "), state)
    (rejected,) = decide_invoice(
        domain.RejectClaim(now=NOW, claim_id="c1", reviewer="s", reason="not received"), state
    )
    assert isinstance(rejected, PaymentClaimRejected)
    after = invoice_decider.fold(state, [rejected])
    assert after.paid == 0 and after.status == "unpaid"


def test_the_same_reference_cannot_be_under_review_twice() -> None:
    state = given_invoice(issue(), claim_cmd())
    with pytest.raises(Conflict):
        decide_invoice(claim_cmd("c2"), state)
    assert decide_invoice(claim_cmd("c1"), state) == []
    assert [type(e) for e in decide_invoice(claim_cmd("c3", "FT999"), state)] == [PaymentClaimFiled]


def test_refunds_only_of_paid_invoices_and_never_more_than_was_paid() -> None:
    unpaid = given_invoice(issue())
    refund = domain.RefundInvoice(now=NOW, refund_id="r1", amount=100_000, reason="goodwill")
    with pytest.raises(Conflict):
        decide_invoice(refund, unpaid)
    paid = given_invoice(issue(), pay("p1", 2_160_000))
    (event,) = decide_invoice(refund, paid)
    assert isinstance(event, InvoiceRefunded) and event.amount == 100_000
    after = invoice_decider.fold(paid, [event])
    assert decide_invoice(refund, after) == []
    with pytest.raises(DomainError) as err:
        decide_invoice(
            domain.RefundInvoice(now=NOW, refund_id="r2", amount=2_060_001, reason="x"), after
        )
    assert err.value.code == "refund_too_large"


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=10_000_000),
    payments=st.lists(
        st.tuples(
            st.sampled_from(["wallet", "provider", "claim"]),
            st.integers(min_value=1, max_value=6_000_000),
            st.integers(min_value=0, max_value=1_000_000),
            st.booleans(),
        ),
        max_size=8,
    ),
)
def test_every_vnd_is_accounted_for(total: int, payments: list[tuple[str, int, int, bool]]) -> None:
    """Paid never exceeds the total; every VND paid in is applied or ends in the wallet."""
    state = given_invoice(issue(lines=(InvoiceLine(description="x", amount=total),)))
    wallet = 0  # what the customer's wallet gained (+) or lost (-) through billing
    money_in = 0  # what the customer sent through providers and claims
    applied = 0
    for n, (channel, amount, extra, duplicate) in enumerate(payments):
        kept = extra if channel == "provider" else 0
        command = pay(f"p{n}", amount, channel=channel, kept_in_wallet=kept)
        for _ in range(2 if duplicate else 1):
            events = decide_invoice(command, state)
            for event in events:
                if isinstance(event, InvoicePaymentRecorded):
                    assert event.amount == event.applied + event.excess
                    applied += event.applied
                    if channel == "wallet":
                        wallet -= amount  # taken by the debit
                    else:
                        money_in += amount + kept
                        # provider money lands in the wallet; billing takes `amount` of it
                        wallet += kept if channel == "provider" else 0
                    wallet += event.credited_to_wallet
            state = invoice_decider.fold(state, events)
    assert state.paid == applied <= total
    assert state.status == (
        "paid" if applied == total else "partially_paid" if applied else "unpaid"
    )
    # Conservation: money in from outside == applied to the invoice + net wallet change.
    assert money_in == applied + wallet


# ------------------------------------------------------------------ subscriptions


def started(months: int = 12, today: date = TODAY, amount: int = 2_160_000) -> Subscription:
    command = domain.StartSubscription(
        now=NOW,
        today=today,
        subscription_id="sub-1",
        account_id="acc-1",
        contract_number="HD-2026-000001",
        invoice_id="inv-1",
        plan=PRO,
        months=months,
        amount=amount,
    )
    return subscription_decider.fold(Subscription(), decide_subscription(command, Subscription()))


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_a_subscription_runs_for_the_months_bought() -> None:
    sub = started()
    assert (sub.starts_on, sub.ends_on) == (TODAY, date(2027, 1, 10))
    assert sub.contract_number == "HD-2026-000001"


def test_renewal_extends_from_the_end_date_not_from_today() -> None:
    sub = started()
    renew_day = datetime(2026, 6, 1, tzinfo=UTC)
    (event,) = decide_subscription(
        domain.RenewSubscription(
            now=renew_day, today=renew_day.date(), invoice_id="inv-2", months=3, amount=600_000
        ),
        sub,
    )
    assert isinstance(event, SubscriptionRenewed)
    assert event.previous_ends_on == date(2027, 1, 10)
    assert event.ends_on == date(2027, 4, 10)
    after = subscription_decider.fold(sub, [event])
    assert after.total_paid == 2_760_000
    # The same invoice applied again changes nothing.
    assert (
        decide_subscription(
            domain.RenewSubscription(
                now=renew_day, today=renew_day.date(), invoice_id="inv-2", months=3, amount=600_000
            ),
            after,
        )
        == []
    )


def test_a_lapsed_contract_renews_from_the_renewal_day() -> None:
    sub = started(months=1)
    late = datetime(2026, 5, 1, tzinfo=UTC)
    expired = subscription_decider.fold(
        sub,
        decide_subscription(domain.CheckExpiry(now=late, today=late.date(), notice_days=15), sub),
    )
    assert expired.status == "expired"
    (event,) = decide_subscription(
        domain.RenewSubscription(
            now=late, today=late.date(), invoice_id="inv-2", months=1, amount=200_000
        ),
        expired,
    )
    assert isinstance(event, SubscriptionRenewed) and event.ends_on == date(2026, 6, 1)
    assert subscription_decider.fold(expired, [event]).status == "active"


def test_upgrade_on_day_100_credits_unused_value_and_charges_the_difference() -> None:
    sub = started()  # 2026-01-10 .. 2027-01-10 = 365 days, paid 2,160,000
    day_100 = TODAY + timedelta(days=100)
    quote = upgrade_quote(sub, PREMIUM, day_100)
    assert (quote.remaining_days, quote.period_days) == (265, 365)
    # credit = floor(2,160,000 * 265 / 365); charge = ceil(2,160,000 * 265 * 200,000 /
    # (365 * 200,000)): premium costs twice as much, so the charge equals the credit (+ rounding).
    assert quote.credit == 2_160_000 * 265 // 365 == 1_568_219
    assert quote.charge == 1_568_220
    (event,) = decide_subscription(
        domain.ApplyUpgrade(
            now=NOW,
            today=day_100,
            invoice_id="inv-u",
            plan=PREMIUM,
            credit=quote.credit,
            charge=quote.charge,
        ),
        sub,
    )
    assert isinstance(event, PlanUpgraded)
    assert event.ends_on == sub.ends_on  # no restarted cycle
    after = subscription_decider.fold(sub, [event])
    assert after.tier == "premium" and after.period_value == 3_136_439
    assert after.ends_on == date(2027, 1, 10)


def test_an_upgrade_that_buys_12_months_charges_the_difference_plus_the_new_price() -> None:
    sub = started()  # 2026-01-10 .. 2027-01-10, paid 2,160,000
    day_100 = TODAY + timedelta(days=100)
    plain = upgrade_quote(sub, PREMIUM, day_100)
    quote = upgrade_quote(sub, PREMIUM, day_100, months=12)
    # The same pro-rata part as without months, plus 12 months of premium (10% off).
    assert (quote.credit, quote.charge) == (plain.credit, plain.charge)
    assert quote.extension == PREMIUM.price(12) == 4_320_000
    assert quote.total == plain.charge + 4_320_000
    assert quote.ends_on == date(2028, 1, 10) and plain.ends_on == sub.ends_on
    with pytest.raises(DomainError) as err:
        upgrade_quote(sub, PREMIUM, day_100, months=5)
    assert err.value.code == "period_not_allowed"
    # When the invoice is paid, the plan changes at once and the end date moves 12 months.
    paid_upgrade = domain.ApplyUpgrade(
        now=NOW,
        today=day_100,
        invoice_id="inv-u",
        plan=PREMIUM,
        credit=quote.credit,
        charge=quote.charge,
        months=12,
        extension=quote.extension,
    )
    (event,) = decide_subscription(paid_upgrade, sub)
    assert isinstance(event, PlanUpgraded)
    assert (event.ends_on, event.months, event.extension) == (date(2028, 1, 10), 12, 4_320_000)
    after = subscription_decider.fold(sub, [event])
    assert after.ends_on == date(2028, 1, 10) and after.tier == "premium"
    # Counted once: the contract's value and what was paid each grow by the invoice's total.
    assert after.total_paid == sub.total_paid + quote.total
    assert after.period_value == quote.credit + quote.total
    # The same paid invoice again changes nothing.
    assert decide_subscription(paid_upgrade, after) == []


def test_months_bought_and_their_price_go_together() -> None:
    sub = started()
    paid_upgrade = domain.ApplyUpgrade(
        now=NOW, today=TODAY, invoice_id="inv-u", plan=PREMIUM, credit=0, charge=1
    )
    for months, extension in ((12, 0), (0, 100), (-1, -1)):
        with pytest.raises(DomainError) as err:
            decide_subscription(replace(paid_upgrade, months=months, extension=extension), sub)
        assert err.value.code == "extension_invalid"


def test_an_upgrade_invoice_keeps_the_months_part_of_its_total() -> None:
    lines = (
        InvoiceLine(description="difference", amount=500),
        InvoiceLine(description="12 months", amount=4_320_000),
    )
    command = issue(order_kind="upgrade", lines=lines, upgrade_extension=4_320_000)
    (event,) = decide_invoice(command, Invoice())
    assert isinstance(event, InvoiceIssued)
    assert (event.total, event.upgrade_extension) == (4_320_500, 4_320_000)
    assert invoice_decider.fold(Invoice(), [event]).upgrade_extension == 4_320_000
    with pytest.raises(DomainError) as err:
        decide_invoice(replace(command, upgrade_extension=4_320_501), Invoice())
    assert err.value.code == "extension_invalid"


def test_downgrades_and_same_tier_moves_are_refused_with_a_clear_message() -> None:
    sub = started()
    for target in (SUPPORT, PRO):
        with pytest.raises(DomainError) as err:
            upgrade_quote(sub, target, TODAY)
        assert err.value.code == "downgrade_not_allowed"
        assert "only be upgraded" in err.value.detail
    with pytest.raises(DomainError) as err:
        upgrade_quote(sub, plan("premium", 400_000, category="software"), TODAY)
    assert err.value.code == "category_mismatch"


@settings(max_examples=300, deadline=None)
@given(
    paid=st.integers(min_value=1, max_value=50_000_000),
    months=st.sampled_from([1, 12, 24]),
    day=st.integers(min_value=0, max_value=800),
    p1=st.integers(min_value=1_000, max_value=1_000_000),
    extra=st.integers(min_value=1, max_value=1_000_000),
)
def test_upgrade_arithmetic_is_exact_and_bounded(
    paid: int, months: int, day: int, p1: int, extra: int
) -> None:
    sub = started(months=months, amount=paid).model_copy(update={"monthly_price": p1})
    assert sub.ends_on is not None
    today = TODAY + timedelta(days=day)
    if today >= sub.ends_on:
        with pytest.raises(Conflict):
            upgrade_quote(sub, PREMIUM, today)
        return
    quote = upgrade_quote(sub, plan("premium", p1 + extra), today)
    assert 0 <= quote.credit <= paid
    assert quote.charge >= 0
    # charge * P1 is the smallest multiple covering the price difference of the days left
    exact = paid * quote.remaining_days * extra
    assert quote.charge * quote.period_days * p1 >= exact
    assert (quote.charge - 1) * quote.period_days * p1 < exact


def test_expiry_notice_once_at_15_days_then_expired_at_the_end() -> None:
    sub = started(months=1)  # ends 2026-02-10

    def check(day: date) -> list[object]:
        return list(
            decide_subscription(domain.CheckExpiry(now=NOW, today=day, notice_days=15), sub)
        )

    assert check(date(2026, 1, 25)) == []  # 16 days left
    (notice,) = check(date(2026, 1, 26))
    assert isinstance(notice, SubscriptionExpiring) and notice.days_left == 15
    sub = subscription_decider.fold(sub, [notice])
    assert check(date(2026, 1, 30)) == []  # told once
    (expired,) = check(date(2026, 2, 10))
    assert isinstance(expired, SubscriptionExpired)


def test_a_renewal_after_the_notice_warns_again_for_the_new_end_date() -> None:
    sub = started(months=1)
    sub = subscription_decider.fold(
        sub,
        decide_subscription(
            domain.CheckExpiry(now=NOW, today=date(2026, 1, 30), notice_days=15), sub
        ),
    )
    renewed = subscription_decider.fold(
        sub,
        decide_subscription(
            domain.RenewSubscription(
                now=NOW, today=date(2026, 1, 30), invoice_id="inv-2", months=1, amount=200_000
            ),
            sub,
        ),
    )
    assert renewed.ends_on == date(2026, 3, 10)
    (notice,) = decide_subscription(
        domain.CheckExpiry(now=NOW, today=date(2026, 2, 25), notice_days=15), renewed
    )
    assert isinstance(notice, SubscriptionExpiring) and notice.ends_on == date(2026, 3, 10)


def auto_renew(sub: Subscription, months: int | None) -> list[object]:
    command = domain.SetAutoRenew(now=NOW, months=months, allowed_months=(1, 12), actor="u1")
    return list(decide_subscription(command, sub))


def test_auto_renewal_is_switched_on_for_an_allowed_period_and_off_again() -> None:
    sub = started(months=12)
    assert sub.last_months == 12 and sub.auto_renew_months is None
    (on,) = auto_renew(sub, 12)
    assert isinstance(on, AutoRenewChanged) and (on.months, on.actor) == (12, "u1")
    sub = subscription_decider.fold(sub, [on])
    assert auto_renew(sub, 12) == []  # already on: nothing to record
    with pytest.raises(DomainError) as err:
        auto_renew(sub, 5)
    assert err.value.code == "period_not_allowed"
    (off,) = auto_renew(sub, None)
    assert subscription_decider.fold(sub, [off]).auto_renew_months is None


def test_auto_renewal_is_due_with_the_notice_and_only_while_the_contract_runs() -> None:
    sub = started(months=1)  # ends 2026-02-10
    assert not domain.auto_renewal_due(sub, date(2026, 1, 30), 15)  # off
    sub = subscription_decider.fold(sub, auto_renew(sub, 1))
    assert not domain.auto_renewal_due(sub, date(2026, 1, 25), 15)  # 16 days left
    assert domain.auto_renewal_due(sub, date(2026, 1, 26), 15)
    assert not domain.auto_renewal_due(sub, date(2026, 2, 10), 15)  # the last day: expiry
    expired = subscription_decider.fold(
        sub,
        decide_subscription(
            domain.CheckExpiry(now=NOW, today=date(2026, 2, 10), notice_days=15), sub
        ),
    )
    assert expired.status == "expired"
    with pytest.raises(Conflict):
        auto_renew(expired, 1)


def test_the_started_event_carries_the_plan_list_price() -> None:
    events = decide_subscription(
        domain.StartSubscription(
            now=NOW,
            today=TODAY,
            subscription_id="s",
            account_id="a",
            contract_number="HD-1",
            invoice_id="i",
            plan=PRO,
            months=12,
            amount=2_160_000,
        ),
        Subscription(),
    )
    assert isinstance(events[0], SubscriptionStarted) and events[0].monthly_price == 200_000


# ------------------------------------------------------------------ payments in progress
# A wallet payment is started (the amount reserved) before the wallet is debited, then
# recorded or abandoned.


def start(payment_id: str, amount: int, **kw: object) -> domain.StartPayment:
    return domain.StartPayment(
        now=NOW,
        payment_id=payment_id,
        channel=kw.pop("channel", "wallet"),  # type: ignore[arg-type]
        amount=amount,
        reference="PF-2026-000001",
        **kw,  # type: ignore[arg-type]
    )


def test_starting_a_payment_reserves_its_amount() -> None:
    state = given_invoice(issue(1_000_000))
    (started,) = decide_invoice(start("p1", 400_000), state)
    assert isinstance(started, InvoicePaymentStarted)
    assert (started.payment_id, started.amount, started.currency) == ("p1", 400_000, "VND")
    after = invoice_decider.fold(state, [started])
    assert (after.due, after.reserved, after.status) == (1_000_000, 400_000, "unpaid")


def test_a_second_payment_cannot_take_what_a_payment_in_progress_reserved() -> None:
    state = given_invoice(issue(1_000_000), start("p1", 1_000_000))
    with pytest.raises(Conflict) as err:
        decide_invoice(start("p2", 1_000_000), state)
    assert err.value.code == "payment_in_progress"
    assert err.value.extra == {"amount_due": 1_000_000, "amount_in_progress": 1_000_000}
    # What is left beside the reservation can still be paid.
    partly = given_invoice(issue(1_000_000), start("p1", 600_000))
    assert len(decide_invoice(start("p2", 400_000), partly)) == 1
    with pytest.raises(Conflict):
        decide_invoice(start("p3", 400_001), partly)


def test_more_than_is_due_is_refused_when_nothing_is_in_progress() -> None:
    with pytest.raises(DomainError) as err:
        decide_invoice(start("p1", 1_000_001), given_invoice(issue(1_000_000)))
    assert err.value.code == "amount_exceeds_due"
    with pytest.raises(DomainError) as zero:
        decide_invoice(start("p1", 0), given_invoice(issue(1_000_000)))
    assert zero.value.code == "amount_not_positive"


def test_starting_the_same_payment_again_changes_nothing() -> None:
    state = given_invoice(issue(1_000_000), start("p1", 1_000_000))
    assert decide_invoice(start("p1", 1_000_000), state) == []
    recorded = given_invoice(issue(1_000_000), start("p1", 1_000_000), pay("p1", 1_000_000))
    assert decide_invoice(start("p1", 1_000_000), recorded) == []


def test_a_paid_or_cancelled_invoice_starts_no_payment() -> None:
    paid = given_invoice(issue(1_000_000), pay("p0", 1_000_000))
    with pytest.raises(Conflict) as err:
        decide_invoice(start("p1", 1), paid)
    assert err.value.code == "invoice_not_payable"


def test_recording_the_started_payment_releases_the_reservation_and_completes() -> None:
    state = given_invoice(issue(1_000_000), start("p1", 1_000_000))
    events = decide_invoice(pay("p1", 1_000_000), state)
    assert [type(e) for e in events] == [InvoicePaymentRecorded, InvoicePaid]
    after = invoice_decider.fold(state, events)
    assert (after.status, after.reserved, after.pending) == ("paid", 0, ())


def test_abandoning_releases_the_reservation_once() -> None:
    state = given_invoice(issue(1_000_000), start("p1", 1_000_000))
    abandon = domain.AbandonPayment(now=NOW, payment_id="p1", reason="insufficient_balance")
    (abandoned,) = decide_invoice(abandon, state)
    assert isinstance(abandoned, InvoicePaymentAbandoned)
    after = invoice_decider.fold(state, [abandoned])
    assert (after.reserved, after.status, after.paid) == (0, "unpaid", 0)
    assert decide_invoice(abandon, after) == []
    # A recorded payment is never abandoned afterwards.
    recorded = invoice_decider.fold(state, decide_invoice(pay("p1", 1_000_000), state))
    assert decide_invoice(abandon, recorded) == []


def test_a_started_payment_finishing_after_the_invoice_was_settled_goes_back_to_the_wallet() -> (
    None
):
    # Paid by an approved bank-transfer claim while the wallet debit was still pending:
    # the debit, when it completes, is credited back in full, never applied twice.
    state = given_invoice(issue(1_000_000), start("p1", 1_000_000), pay("claim", 1_000_000))
    (recorded,) = decide_invoice(pay("p1", 1_000_000), state)
    assert isinstance(recorded, InvoicePaymentRecorded)
    assert (recorded.applied, recorded.credited_to_wallet) == (0, 1_000_000)


def test_expiry_notices_at_15_7_and_1_days_each_once_per_term() -> None:
    sub = started(months=1)  # ends 2026-02-10

    def check(day: date) -> list[SubscriptionExpiring]:
        command = domain.CheckExpiry(now=NOW, today=day, notice_days=15, reminder_days=(7, 1))
        return list(decide_subscription(command, sub))  # type: ignore[arg-type]

    told = []
    for day in range(24, 32):  # every day from 17 days left, on a sweep that runs twice a day
        for _ in range(2):
            for notice in check(date(2026, 1, day)):
                told.append((notice.notice_days, notice.days_left))
                sub = subscription_decider.fold(sub, [notice])
    for day in range(1, 10):
        for notice in check(date(2026, 2, day)):
            told.append((notice.notice_days, notice.days_left))
            sub = subscription_decider.fold(sub, [notice])
    assert told == [(15, 15), (7, 7), (1, 1)]
    (expired,) = check(date(2026, 2, 10))  # the expiry day: notifications tell it too
    assert isinstance(expired, SubscriptionExpired)


def test_a_sweep_that_missed_days_gives_only_the_latest_notice_and_a_renewal_the_next_term_s() -> (
    None
):
    sub = started(months=1)  # ends 2026-02-10
    first = domain.CheckExpiry(
        now=NOW, today=date(2026, 2, 4), notice_days=15, reminder_days=(7, 1)
    )
    (notice,) = decide_subscription(first, sub)
    assert isinstance(notice, SubscriptionExpiring) and notice.notice_days == 7  # not 15 too
    sub = subscription_decider.fold(sub, [notice])
    renewed = subscription_decider.fold(
        sub,
        decide_subscription(
            domain.RenewSubscription(
                now=NOW, today=date(2026, 2, 4), invoice_id="inv-2", months=1, amount=200_000
            ),
            sub,
        ),
    )
    # Renewed before the 1-day notice: the old term's is never given; the new term starts over.
    day_before = domain.CheckExpiry(
        now=NOW, today=date(2026, 2, 9), notice_days=15, reminder_days=(7, 1)
    )
    assert list(decide_subscription(day_before, renewed)) == []
    later = domain.CheckExpiry(
        now=NOW, today=date(2026, 2, 23), notice_days=15, reminder_days=(7, 1)
    )
    (again,) = decide_subscription(later, renewed)
    assert isinstance(again, SubscriptionExpiring) and (again.notice_days, again.ends_on) == (
        15,
        date(2026, 3, 10),
    )


def test_a_term_told_before_notices_had_stages_is_not_told_the_first_again() -> None:
    sub = started(months=1).model_copy(update={"expiring_notice_for": date(2026, 2, 10)})
    check = domain.CheckExpiry(
        now=NOW, today=date(2026, 1, 30), notice_days=15, reminder_days=(7, 1)
    )
    assert list(decide_subscription(check, sub)) == []  # 11 days left: the 15-day one was given
