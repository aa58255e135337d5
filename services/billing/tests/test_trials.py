"""Trials, given events / when command / then events. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal_billing import domain
from portal_billing.domain import (
    BillingAccount,
    Plan,
    Subscription,
    account_decider,
    decide_account,
    decide_invoice,
    decide_plan,
    decide_subscription,
    subscription_decider,
)
from portal_chassis.decider import Conflict, DomainError
from portal_contracts.events.billing import (
    BillingEvent,
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
    PeriodPrice,
    PlanPublished,
    SubscriptionExpired,
    SubscriptionRenewed,
    SubscriptionStarted,
    TrialClaimed,
)

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
TODAY = NOW.date()
PERIODS = (PeriodPrice(months=1), PeriodPrice(months=12, discount_percent=10))
SOFTWARE = Plan(
    status="active",
    plan_id="sw-pro",
    code="SW-PRO",
    name="Store software Professional",
    category="software",
    tier="professional",
    monthly_price=250_000,
    periods=PERIODS,
    trial_days=14,
)
PREMIUM = SOFTWARE.model_copy(
    update={"plan_id": "sw-prem", "code": "SW-PREM", "tier": "premium", "monthly_price": 450_000}
)


def claim(invoice_id: str = "inv-1", plan: Plan = SOFTWARE) -> domain.ClaimTrial:
    return domain.ClaimTrial(now=NOW, account_id="acc-1", plan=plan, invoice_id=invoice_id)


def given_account(*events: BillingEvent) -> BillingAccount:
    return account_decider.fold(BillingAccount(), list(events))


def trial_claimed(plan_id: str = "sw-pro", invoice_id: str = "inv-1") -> TrialClaimed:
    return TrialClaimed(
        occurred_at=NOW, account_id="acc-1", plan_id=plan_id, invoice_id=invoice_id, trial_days=14
    )


def start_trial(**kw: object) -> domain.StartSubscription:
    fields: dict[str, object] = dict(
        now=NOW,
        today=TODAY,
        subscription_id="sub-1",
        account_id="acc-1",
        contract_number="HD-2026-000001",
        invoice_id="inv-1",
        plan=SOFTWARE,
        months=0,
        amount=0,
        trial_days=14,
    )
    fields.update(kw)
    return domain.StartSubscription(**fields)  # type: ignore[arg-type]


def on_trial() -> Subscription:
    state = Subscription()
    return subscription_decider.fold(state, decide_subscription(start_trial(), state))


# ------------------------------------------------------------------ the catalogue


def test_a_plan_is_published_with_its_trial_and_a_trial_is_bounded() -> None:
    command = domain.PublishPlan(
        now=NOW,
        plan_id="sw-pro",
        code="SW-PRO",
        name="Store software Professional",
        category="software",
        tier="professional",
        monthly_price=250_000,
        currency="VND",
        periods=PERIODS,
        trial_days=14,
    )
    [published] = decide_plan(command, Plan())
    assert isinstance(published, PlanPublished) and published.trial_days == 14
    assert domain.plan_decider.fold(Plan(), [published]).trial_days == 14
    with pytest.raises(DomainError) as err:
        decide_plan(domain.PublishPlan(**{**command.__dict__, "trial_days": 91}), Plan())
    assert err.value.code == "invalid_trial"


# ------------------------------------------------------------------ once per account and plan


def test_the_first_trial_of_a_plan_is_claimed() -> None:
    assert decide_account(claim(), BillingAccount()) == [trial_claimed()]


def test_a_second_trial_of_the_same_plan_is_refused_but_the_same_order_again_is_a_no_op() -> None:
    state = given_account(trial_claimed())
    assert decide_account(claim("inv-1"), state) == []
    with pytest.raises(Conflict) as err:
        decide_account(claim("inv-2"), state)
    assert err.value.code == "trial_already_used"
    # Another plan has its own trial.
    assert decide_account(claim("inv-3", PREMIUM), state) == [trial_claimed("sw-prem", "inv-3")]


def test_a_plan_without_a_trial_or_no_longer_sold_offers_none() -> None:
    with pytest.raises(DomainError) as err:
        decide_account(claim(plan=SOFTWARE.model_copy(update={"trial_days": 0})), BillingAccount())
    assert err.value.code == "trial_not_offered"
    with pytest.raises(DomainError) as err:
        decide_account(
            claim(plan=SOFTWARE.model_copy(update={"status": "retired"})), BillingAccount()
        )
    assert err.value.code == "plan_not_available"


# ------------------------------------------------------------------ the trial order


def test_a_trial_order_costs_nothing_and_is_paid_when_issued() -> None:
    command = domain.IssueInvoice(
        now=NOW,
        invoice_id="inv-1",
        account_id="acc-1",
        proforma_number="PF-1",
        order_id="OD-1",
        order_kind="new",
        subscription_id="sub-1",
        plan=SOFTWARE,
        months=0,
        lines=(InvoiceLine(description="trial", amount=0),),
        due_at=NOW + timedelta(days=7),
        invoice_number="INV-1",
        trial_days=14,
    )
    issued, paid = decide_invoice(command, domain.Invoice())
    assert isinstance(issued, InvoiceIssued) and isinstance(paid, InvoicePaid)
    assert (issued.trial_days, issued.total, paid.amount_spent) == (14, 0, 0)
    charged = (InvoiceLine(description="x", amount=1),)
    for bad in ({"lines": charged}, {"months": 1}, {"order_kind": "renewal"}):
        with pytest.raises(DomainError) as err:
            decide_invoice(domain.IssueInvoice(**{**command.__dict__, **bad}), domain.Invoice())
        assert err.value.code == "trial_invalid"


def test_a_trial_subscription_runs_for_the_trial_days() -> None:
    [started] = decide_subscription(start_trial(), Subscription())
    assert isinstance(started, SubscriptionStarted)
    assert (started.trial_days, started.months, started.amount) == (14, 0, 0)
    assert started.ends_on == date(2026, 3, 15)
    state = subscription_decider.fold(Subscription(), [started])
    assert state.on_trial and state.status == "active" and state.period_value == 0
    with pytest.raises(DomainError):
        decide_subscription(start_trial(amount=1), Subscription())


# ------------------------------------------------------------------ after the trial


def test_renewing_from_a_trial_starts_the_paid_term_on_the_renewal_day() -> None:
    """Not stacked on the trial: 12 months from the day it is renewed, trial days left or not."""
    state = on_trial()
    renewal_day = NOW + timedelta(days=5)
    assert domain.renewal_base(state, renewal_day.date()) == renewal_day.date()
    [renewed] = decide_subscription(
        domain.RenewSubscription(
            now=renewal_day,
            today=renewal_day.date(),
            invoice_id="inv-2",
            months=12,
            amount=2_700_000,
        ),
        state,
    )
    assert isinstance(renewed, SubscriptionRenewed)
    assert renewed.from_trial and renewed.previous_ends_on == date(2026, 3, 15)
    assert renewed.ends_on == date(2027, 3, 6)
    paid = subscription_decider.fold(state, [renewed])
    assert not paid.on_trial
    assert (paid.period_start, paid.period_value) == (date(2026, 3, 6), 2_700_000)
    # The next renewal extends from the end date again.
    assert domain.renewal_base(paid, date(2026, 4, 1)) == date(2027, 3, 6)


def test_a_trial_is_not_upgraded_for_free() -> None:
    state = on_trial()
    with pytest.raises(Conflict) as err:
        domain.upgrade_quote(state, PREMIUM, TODAY)
    assert err.value.code == "subscription_on_trial"
    with pytest.raises(Conflict):
        decide_subscription(
            domain.ApplyUpgrade(
                now=NOW, today=TODAY, invoice_id="inv-2", plan=PREMIUM, credit=0, charge=0
            ),
            state,
        )


def test_a_trial_not_renewed_expires_at_its_end_like_a_subscription() -> None:
    state = on_trial()
    end = datetime(2026, 3, 15, 9, tzinfo=UTC)
    events = decide_subscription(
        domain.CheckExpiry(now=end, today=end.date(), notice_days=15), state
    )
    assert [type(e) for e in events] == [SubscriptionExpired]
    assert subscription_decider.fold(state, events).status == "expired"
