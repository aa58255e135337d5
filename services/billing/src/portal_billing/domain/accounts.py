"""Account settings (stream `billing-account-<id>`): automatic payment from the balance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from portal_chassis.decider import Decider
from portal_contracts.events.billing import (
    AutoPaySettingChanged,
    BillingEvent,
)


class BillingAccount(BaseModel):
    model_config = ConfigDict(frozen=True)
    auto_pay: bool = False


@dataclass(frozen=True)
class SetAutoPay:
    now: datetime
    account_id: str
    enabled: bool
    actor: str


def decide_account(command: SetAutoPay, state: BillingAccount) -> Sequence[BillingEvent]:
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


def evolve_account(state: BillingAccount, event: BillingEvent) -> BillingAccount:
    if isinstance(event, AutoPaySettingChanged):
        return BillingAccount(auto_pay=event.enabled)
    return state


account_decider: Decider[SetAutoPay, BillingAccount, BillingEvent] = Decider(
    initial_state=BillingAccount(),
    decide=decide_account,
    evolve=evolve_account,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=BillingAccount.model_validate,
)
