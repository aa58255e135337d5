"""Account settings (stream `billing-account-<id>`): automatic payment from the balance, the
business sector (plans suited to it are suggested), and the trials the account used (one per
plan)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from portal_billing.domain.catalogue import Plan
from portal_billing.domain.common import SECTORS
from portal_chassis.decider import Conflict, Decider, DomainError
from portal_contracts.events.billing import (
    AutoPaySettingChanged,
    BillingEvent,
    BusinessSectorChanged,
    TrialClaimed,
)


class BillingAccount(BaseModel):
    model_config = ConfigDict(frozen=True)
    auto_pay: bool = False
    sector: str | None = None
    trials: dict[str, str] = {}
    """Plan id -> the invoice of the trial order that used the account's trial of it."""


@dataclass(frozen=True)
class SetAutoPay:
    now: datetime
    account_id: str
    enabled: bool
    actor: str


@dataclass(frozen=True)
class ClaimTrial:
    """Use the account's one trial of `plan` for the trial order `invoice_id`."""

    now: datetime
    account_id: str
    plan: Plan
    invoice_id: str


@dataclass(frozen=True)
class SetSector:
    now: datetime
    account_id: str
    sector: str
    actor: str


AccountCommand = SetAutoPay | ClaimTrial | SetSector


def decide_account(command: AccountCommand, state: BillingAccount) -> Sequence[BillingEvent]:
    match command:
        case SetAutoPay():
            return _set_auto_pay(command, state)
        case ClaimTrial():
            return _claim_trial(command, state)
        case SetSector():
            return _set_sector(command, state)
    raise TypeError(f"unknown command {command!r}")


def _set_auto_pay(command: SetAutoPay, state: BillingAccount) -> list[BillingEvent]:
    if state.auto_pay == command.enabled:
        return []
    return [
        AutoPaySettingChanged(
            occurred_at=command.now,
            account_id=command.account_id,
            enabled=command.enabled,
            actor=command.actor,
        )
    ]


def _set_sector(command: SetSector, state: BillingAccount) -> list[BillingEvent]:
    if command.sector not in SECTORS:
        raise DomainError("sector_unknown", "choose a sector from the list", allowed=list(SECTORS))
    if state.sector == command.sector:
        return []
    return [
        BusinessSectorChanged(
            occurred_at=command.now,
            account_id=command.account_id,
            sector=command.sector,
            actor=command.actor,
        )
    ]


def _claim_trial(command: ClaimTrial, state: BillingAccount) -> list[BillingEvent]:
    plan = command.plan
    used_by = state.trials.get(plan.plan_id)
    if used_by == command.invoice_id:
        return []  # the same order again (a retry under its key)
    if used_by is not None:
        raise Conflict(
            "trial_already_used",
            f"this account has already tried {plan.name}; buy it instead",
            plan_id=plan.plan_id,
        )
    if plan.status != "active":
        raise DomainError("plan_not_available", "this plan is not sold any more")
    if plan.trial_days <= 0:
        raise DomainError("trial_not_offered", f"{plan.name} has no trial", plan_id=plan.plan_id)
    return [
        TrialClaimed(
            occurred_at=command.now,
            account_id=command.account_id,
            plan_id=plan.plan_id,
            invoice_id=command.invoice_id,
            trial_days=plan.trial_days,
        )
    ]


def evolve_account(state: BillingAccount, event: BillingEvent) -> BillingAccount:
    if isinstance(event, AutoPaySettingChanged):
        return state.model_copy(update={"auto_pay": event.enabled})
    if isinstance(event, BusinessSectorChanged):
        return state.model_copy(update={"sector": event.sector})
    if isinstance(event, TrialClaimed):
        trials = {**state.trials, event.plan_id: event.invoice_id}
        return state.model_copy(update={"trials": trials})
    return state


account_decider: Decider[AccountCommand, BillingAccount, BillingEvent] = Decider(
    initial_state=BillingAccount(),
    decide=decide_account,
    evolve=evolve_account,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=BillingAccount.model_validate,
)
