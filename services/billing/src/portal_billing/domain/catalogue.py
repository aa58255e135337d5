"""The plan catalogue (stream `plan-<id>`): plans, periods, prices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from portal_billing.domain.common import (
    ALLOWED_PERIODS,
    PLATFORM,
    SECTORS,
)
from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.billing import (
    BillingEvent,
    PeriodPrice,
    PlanChanged,
    PlanPublished,
    PlanRetired,
    Tier,
)


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: Literal["none", "active", "retired"] = "none"
    plan_id: str = ""
    code: str = ""
    name: str = ""
    category: str = ""
    tier: Tier = "support"
    monthly_price: int = 0
    currency: str = "VND"
    periods: tuple[PeriodPrice, ...] = ()
    description: str = ""
    trial_days: int = 0
    """Days a new customer may use the plan free, once per account (0: no trial)."""
    sectors: tuple[str, ...] = ()
    """The business sectors the plan suits."""

    def period(self, months: int) -> PeriodPrice:
        for period in self.periods:
            if period.months == months:
                return period
        allowed = ", ".join(str(p.months) for p in self.periods)
        raise DomainError(
            "period_not_allowed",
            f"{self.name} is sold for {allowed} months",
            allowed=[p.months for p in self.periods],
        )

    def price(self, months: int) -> int:
        discount = self.period(months).discount_percent
        return self.monthly_price * months * (100 - discount) // 100


@dataclass(frozen=True)
class PublishPlan:
    now: datetime
    plan_id: str
    code: str
    name: str
    category: str
    tier: Tier
    monthly_price: int
    currency: str
    periods: tuple[PeriodPrice, ...]
    description: str = ""
    trial_days: int = 0
    sectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangePlan:
    now: datetime
    name: str
    monthly_price: int
    periods: tuple[PeriodPrice, ...]
    description: str = ""
    trial_days: int = 0
    sectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetirePlan:
    now: datetime


PlanCommand = PublishPlan | ChangePlan | RetirePlan
MAX_TRIAL_DAYS = 90


def _check_terms(command: PublishPlan | ChangePlan) -> None:
    if not 0 <= command.trial_days <= MAX_TRIAL_DAYS:
        raise DomainError("invalid_trial", f"a trial lasts 0 to {MAX_TRIAL_DAYS} days")
    unknown = sorted(set(command.sectors) - set(SECTORS))
    if unknown or len(set(command.sectors)) != len(command.sectors):
        raise DomainError(
            "sector_unknown", "sectors are listed once, from the list", allowed=list(SECTORS)
        )
    monthly_price, periods = command.monthly_price, command.periods
    if monthly_price <= 0:
        raise DomainError("price_not_positive", "the monthly price must be greater than zero")
    if not periods:
        raise DomainError("periods_required", "a plan is sold for at least one period")
    months = [p.months for p in periods]
    if len(set(months)) != len(months):
        raise DomainError("duplicate_period", "each period is listed once")
    for period in periods:
        if period.months not in ALLOWED_PERIODS:
            raise DomainError(
                "period_not_allowed", "periods are 1, 3, 6, 12 or 24 months", months=period.months
            )
        if not 0 <= period.discount_percent < 100:
            raise DomainError("invalid_discount", "a period discount is 0 to 99 percent")


def decide_plan(command: PlanCommand, state: Plan) -> Sequence[BillingEvent]:
    match command:
        case PublishPlan():
            return _publish(command, state)
    if state.status == "none":
        raise NotFound("plan_not_found", "no such plan")
    match command:
        case ChangePlan():
            return _change(command, state)
        case RetirePlan():
            if state.status == "retired":
                return []
            return [
                PlanRetired(occurred_at=command.now, account_id=PLATFORM, plan_id=state.plan_id)
            ]
    raise TypeError(f"unknown command {command!r}")


def _publish(command: PublishPlan, state: Plan) -> list[BillingEvent]:
    if state.status != "none":
        if state.code == command.code and state.monthly_price == command.monthly_price:
            return []  # the same publication again (seeding, a retry)
        raise Conflict("plan_exists", "this plan is already published")
    _check_terms(command)
    return [
        PlanPublished(
            occurred_at=command.now,
            account_id=PLATFORM,
            plan_id=command.plan_id,
            code=command.code,
            name=command.name,
            category=command.category,
            tier=command.tier,
            monthly_price=command.monthly_price,
            currency=command.currency,
            periods=list(command.periods),
            description=command.description,
            trial_days=command.trial_days,
            sectors=list(command.sectors),
        )
    ]


def _change(command: ChangePlan, state: Plan) -> list[BillingEvent]:
    if state.status == "retired":
        raise Conflict("plan_retired", "a retired plan cannot be changed")
    _check_terms(command)
    return [
        PlanChanged(
            occurred_at=command.now,
            account_id=PLATFORM,
            plan_id=state.plan_id,
            name=command.name,
            monthly_price=command.monthly_price,
            periods=list(command.periods),
            description=command.description,
            trial_days=command.trial_days,
            sectors=list(command.sectors),
        )
    ]


def evolve_plan(state: Plan, event: BillingEvent) -> Plan:
    if isinstance(event, PlanPublished):
        return Plan(
            status="active",
            plan_id=event.plan_id,
            code=event.code,
            name=event.name,
            category=event.category,
            tier=event.tier,
            monthly_price=event.monthly_price,
            currency=event.currency,
            periods=tuple(event.periods),
            description=event.description,
            trial_days=event.trial_days,
            sectors=tuple(event.sectors),
        )
    if isinstance(event, PlanChanged):
        return state.model_copy(
            update={
                "name": event.name,
                "monthly_price": event.monthly_price,
                "periods": tuple(event.periods),
                "description": event.description,
                "trial_days": event.trial_days,
                "sectors": tuple(event.sectors),
            }
        )
    if isinstance(event, PlanRetired):
        return state.model_copy(update={"status": "retired"})
    return state


plan_decider: Decider[PlanCommand, Plan, BillingEvent] = Decider(
    initial_state=Plan(),
    decide=decide_plan,
    evolve=evolve_plan,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Plan.model_validate,
)
