"""Subscriptions (stream `subscription-<id>`): the contract, renewals, upgrades, expiry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from portal_billing.domain.catalogue import (
    Plan,
)
from portal_billing.domain.common import (
    TIERS,
    add_months,
    ceil_div,
)
from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.billing import (
    AutoRenewChanged,
    BillingEvent,
    PlanUpgraded,
    SubscriptionExpired,
    SubscriptionExpiring,
    SubscriptionRenewed,
    SubscriptionStarted,
    Tier,
)


class Subscription(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: Literal["none", "active", "expired"] = "none"
    subscription_id: str = ""
    account_id: str = ""
    contract_number: str = ""
    plan_id: str = ""
    plan_code: str = ""
    plan_name: str = ""
    category: str = ""
    tier: Tier = "support"
    monthly_price: int = 0
    currency: str = "VND"
    starts_on: date | None = None
    ends_on: date | None = None
    period_start: date | None = None
    """Start of the span whose value is `period_value` (moves at renewals and upgrades)."""
    period_value: int = 0
    total_paid: int = 0
    """Everything paid for this contract: the purchase, renewals and upgrades."""
    invoices: tuple[str, ...] = ()
    expiring_notice_for: date | None = None
    expiring_notice_days: int | None = None
    """The latest notice given for the term ending `expiring_notice_for` (15, 7, 1)."""
    last_months: int = 0
    """The period of the purchase or the latest renewal (auto-renewal's default)."""
    auto_renew_months: int | None = None
    """Renew automatically for this many months; None: off."""
    on_trial: bool = False
    """The current term is a free trial ending on `ends_on`; a renewal starts the paid term."""


@dataclass(frozen=True)
class UpgradeQuote:
    remaining_days: int
    period_days: int
    credit: int
    charge: int
    """The pro-rata difference to the current end date."""
    months: int = 0
    extension: int = 0
    """`months` more at the new plan's price (its period price, discount included)."""
    ends_on: date | None = None
    """The end date after the upgrade."""

    @property
    def total(self) -> int:
        return self.charge + self.extension


def upgrade_quote(sub: Subscription, new: Plan, today: date, months: int = 0) -> UpgradeQuote:
    """What moving `sub` to `new` today credits and costs, plus `months` more at the new
    price when the customer also buys them (0: the end date stays)."""
    if sub.status != "active" or sub.ends_on is None or sub.period_start is None:
        raise Conflict("subscription_not_active", "only an active subscription is upgraded")
    if sub.on_trial:
        # A trial has no paid value to credit: it would move up a tier for nothing.
        raise Conflict("subscription_on_trial", "renew the trial to start the paid term first")
    if new.status != "active":
        raise DomainError("plan_not_available", "this plan is not sold any more")
    if new.category != sub.category:
        raise DomainError("category_mismatch", "an upgrade stays within the plan's category")
    if new.currency != sub.currency:
        raise DomainError("currency_mismatch", "the new plan is priced in another currency")
    if TIERS.index(new.tier) <= TIERS.index(sub.tier):
        raise DomainError(
            "downgrade_not_allowed",
            f"plans can only be upgraded: {new.tier} is not above {sub.tier}",
            current_tier=sub.tier,
            requested_tier=new.tier,
        )
    remaining = (sub.ends_on - today).days
    if remaining <= 0:
        raise Conflict("subscription_ending", "the subscription ends today; renew it instead")
    period_days = max((sub.ends_on - sub.period_start).days, remaining)
    value = sub.period_value
    credit = value * remaining // period_days
    delta = new.monthly_price - sub.monthly_price
    charge = ceil_div(value * remaining * delta, period_days * sub.monthly_price)
    extension = new.price(months) if months else 0  # refuses a period not sold
    ends_on = add_months(sub.ends_on, months) if months else sub.ends_on
    return UpgradeQuote(remaining, period_days, credit, charge, months, extension, ends_on)


@dataclass(frozen=True)
class StartSubscription:
    now: datetime
    today: date
    subscription_id: str
    account_id: str
    contract_number: str
    invoice_id: str
    plan: Plan
    months: int
    amount: int
    trial_days: int = 0
    """On trial: free for this many days (`months` 0, `amount` 0)."""


@dataclass(frozen=True)
class RenewSubscription:
    now: datetime
    today: date
    invoice_id: str
    months: int
    amount: int


@dataclass(frozen=True)
class ApplyUpgrade:
    now: datetime
    today: date
    invoice_id: str
    plan: Plan
    credit: int
    charge: int
    months: int = 0
    """Months bought with the upgrade, after the current end date."""
    extension: int = 0
    """What those months were paid."""


@dataclass(frozen=True)
class CheckExpiry:
    now: datetime
    today: date
    notice_days: int
    """The first notice, this many days before the end (and auto-renewal's invoice)."""
    reminder_days: tuple[int, ...] = ()
    """Later notices, this many days before the end (e.g. 7 and 1)."""


@dataclass(frozen=True)
class SetAutoRenew:
    now: datetime
    months: int | None
    """None turns it off."""
    allowed_months: tuple[int, ...]
    """The periods the subscription's plan is sold for."""
    actor: str


SubscriptionCommand = (
    StartSubscription | RenewSubscription | ApplyUpgrade | CheckExpiry | SetAutoRenew
)


def auto_renewal_due(sub: Subscription, today: date, notice_days: int) -> bool:
    """Auto-renewal issues its invoice with the expiry notice, while the contract runs."""
    if sub.status != "active" or sub.auto_renew_months is None or sub.ends_on is None:
        return False
    return 0 < (sub.ends_on - today).days <= notice_days


def renewal_base(sub: Subscription, today: date) -> date:
    """A renewal extends from the current end date; a lapsed contract, or a trial, starts
    the paid term today."""
    assert sub.ends_on is not None
    return sub.ends_on if sub.ends_on >= today and not sub.on_trial else today


def decide_subscription(
    command: SubscriptionCommand, state: Subscription
) -> Sequence[BillingEvent]:
    match command:
        case StartSubscription():
            return _start(command, state)
    if state.status == "none":
        raise NotFound("subscription_not_found", "no such subscription")
    match command:
        case RenewSubscription():
            return _renew(command, state)
        case ApplyUpgrade():
            return _upgrade(command, state)
        case SetAutoRenew():
            return _set_auto_renew(command, state)
        case CheckExpiry():
            return _check_expiry(command, state)
    raise TypeError(f"unknown command {command!r}")


def _start(command: StartSubscription, state: Subscription) -> list[BillingEvent]:
    if state.status != "none":
        return []
    if command.trial_days:
        if command.trial_days < 0 or command.months or command.amount:
            raise DomainError("trial_invalid", "a trial buys no months and costs nothing")
        ends_on = command.today + timedelta(days=command.trial_days)
    elif command.months <= 0:
        raise DomainError("months_not_positive", "a subscription runs at least one month")
    else:
        ends_on = add_months(command.today, command.months)
    plan = command.plan
    return [
        SubscriptionStarted(
            occurred_at=command.now,
            account_id=command.account_id,
            subscription_id=command.subscription_id,
            contract_number=command.contract_number,
            invoice_id=command.invoice_id,
            plan_id=plan.plan_id,
            plan_code=plan.code,
            plan_name=plan.name,
            category=plan.category,
            tier=plan.tier,
            months=command.months,
            starts_on=command.today,
            ends_on=ends_on,
            amount=command.amount,
            currency=plan.currency,
            monthly_price=plan.monthly_price,
            trial_days=command.trial_days,
        )
    ]


def _renew(command: RenewSubscription, state: Subscription) -> list[BillingEvent]:
    assert state.ends_on is not None  # every started subscription has an end
    if command.invoice_id in state.invoices:
        return []
    if command.months <= 0:
        raise DomainError("months_not_positive", "renew for at least one month")
    base = renewal_base(state, command.today)
    return [
        SubscriptionRenewed(
            occurred_at=command.now,
            account_id=state.account_id,
            subscription_id=state.subscription_id,
            invoice_id=command.invoice_id,
            months=command.months,
            previous_ends_on=state.ends_on,
            ends_on=add_months(base, command.months),
            amount=command.amount,
            currency=state.currency,
            from_trial=state.on_trial,
        )
    ]


def _upgrade(command: ApplyUpgrade, state: Subscription) -> list[BillingEvent]:
    assert state.ends_on is not None  # every started subscription has an end
    if command.invoice_id in state.invoices:
        return []
    if TIERS.index(command.plan.tier) <= TIERS.index(state.tier):
        raise DomainError("downgrade_not_allowed", "plans can only be upgraded")
    if state.status != "active":
        raise Conflict("subscription_not_active", "only an active subscription is upgraded")
    if state.on_trial:
        raise Conflict("subscription_on_trial", "renew the trial to start the paid term first")
    if (
        command.months < 0
        or command.extension < 0
        or (command.months == 0) != (command.extension == 0)
    ):
        raise DomainError("extension_invalid", "months bought and their price go together")
    return [
        PlanUpgraded(
            occurred_at=command.now,
            account_id=state.account_id,
            subscription_id=state.subscription_id,
            invoice_id=command.invoice_id,
            from_plan_id=state.plan_id,
            from_tier=state.tier,
            to_plan_id=command.plan.plan_id,
            to_plan_code=command.plan.code,
            to_plan_name=command.plan.name,
            to_tier=command.plan.tier,
            to_monthly_price=command.plan.monthly_price,
            effective_on=command.today,
            ends_on=add_months(state.ends_on, command.months),
            credit=command.credit,
            charge=command.charge,
            currency=state.currency,
            months=command.months,
            extension=command.extension,
        )
    ]


def _set_auto_renew(command: SetAutoRenew, state: Subscription) -> list[BillingEvent]:
    if state.status != "active":
        raise Conflict("subscription_not_active", "an expired subscription is not renewed")
    if command.months is not None and command.months not in command.allowed_months:
        raise DomainError(
            "period_not_allowed",
            f"this plan is sold for {', '.join(map(str, command.allowed_months))} months",
            allowed_months=list(command.allowed_months),
        )
    if command.months == state.auto_renew_months:
        return []
    return [
        AutoRenewChanged(
            occurred_at=command.now,
            account_id=state.account_id,
            subscription_id=state.subscription_id,
            months=command.months,
            actor=command.actor,
        )
    ]


def _check_expiry(command: CheckExpiry, state: Subscription) -> list[BillingEvent]:
    assert state.ends_on is not None  # every started subscription has an end
    if state.status != "active":
        return []
    days_left = (state.ends_on - command.today).days
    if days_left <= 0:
        return [
            SubscriptionExpired(
                occurred_at=command.now,
                account_id=state.account_id,
                subscription_id=state.subscription_id,
                contract_number=state.contract_number,
                ends_on=state.ends_on,
            )
        ]
    due = notice_due(days_left, (command.notice_days, *command.reminder_days))
    told = None
    if state.expiring_notice_for == state.ends_on:
        # A term told before notices had stages was told the first one.
        told = state.expiring_notice_days or command.notice_days
    # Each stage once per term; a sweep that missed days gives the latest stage only. A
    # renewal moves the end date: the old term's later notices never come.
    if due is not None and (told is None or due < told):
        return [
            SubscriptionExpiring(
                occurred_at=command.now,
                account_id=state.account_id,
                subscription_id=state.subscription_id,
                contract_number=state.contract_number,
                ends_on=state.ends_on,
                days_left=days_left,
                notice_days=due,
            )
        ]
    return []


def notice_due(days_left: int, stages: tuple[int, ...]) -> int | None:
    """The notice stage a term is in: the smallest stage still >= the days left."""
    return min((stage for stage in stages if days_left <= stage), default=None)


def evolve_subscription(state: Subscription, event: BillingEvent) -> Subscription:
    if isinstance(event, SubscriptionStarted):
        return Subscription(
            status="active",
            subscription_id=event.subscription_id,
            account_id=event.account_id,
            contract_number=event.contract_number,
            plan_id=event.plan_id,
            plan_code=event.plan_code,
            plan_name=event.plan_name,
            category=event.category,
            tier=event.tier,
            monthly_price=event.monthly_price or event.amount // max(event.months, 1),
            currency=event.currency,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            period_start=event.starts_on,
            period_value=event.amount,
            total_paid=event.amount,
            invoices=(event.invoice_id,),
            last_months=event.months,
            on_trial=event.trial_days > 0,
        )
    if isinstance(event, AutoRenewChanged):
        return state.model_copy(update={"auto_renew_months": event.months})
    if isinstance(event, SubscriptionRenewed):
        assert state.ends_on is not None and state.period_start is not None
        renewal_day = event.occurred_at.date()
        if state.ends_on >= renewal_day and not event.from_trial:
            # The unused value so far plus what the renewal paid covers [today, new end).
            span = max((state.ends_on - state.period_start).days, 1)
            left = max((state.ends_on - max(renewal_day, state.period_start)).days, 0)
            value = state.period_value * left // span + event.amount
            start = max(renewal_day, state.period_start)
        else:
            value, start = event.amount, renewal_day
        return state.model_copy(
            update={
                "status": "active",
                "ends_on": event.ends_on,
                "period_start": start,
                "period_value": value,
                "total_paid": state.total_paid + event.amount,
                "invoices": (*state.invoices, event.invoice_id),
                "last_months": event.months,
                "on_trial": False,
            }
        )
    if isinstance(event, PlanUpgraded):
        return state.model_copy(
            update={
                "plan_id": event.to_plan_id,
                "plan_code": event.to_plan_code,
                "plan_name": event.to_plan_name,
                "tier": event.to_tier,
                "monthly_price": event.to_monthly_price or state.monthly_price,
                "ends_on": event.ends_on,
                "period_start": event.effective_on,
                # The value of [effective_on, ends_on): what was left, the difference, and
                # the months bought at the new price.
                "period_value": event.credit + event.charge + event.extension,
                "total_paid": state.total_paid + event.charge + event.extension,
                "invoices": (*state.invoices, event.invoice_id),
                "last_months": event.months or state.last_months,
            }
        )
    if isinstance(event, SubscriptionExpiring):
        return state.model_copy(
            update={"expiring_notice_for": event.ends_on, "expiring_notice_days": event.notice_days}
        )
    if isinstance(event, SubscriptionExpired):
        return state.model_copy(update={"status": "expired"})
    return state


subscription_decider: Decider[SubscriptionCommand, Subscription, BillingEvent] = Decider(
    initial_state=Subscription(),
    decide=decide_subscription,
    evolve=evolve_subscription,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Subscription.model_validate,
)
