"""Business sectors, given events / when command / then events. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_billing import domain
from portal_billing.domain import BillingAccount, Plan, account_decider, decide_account, decide_plan
from portal_chassis.decider import DomainError
from portal_contracts.events.billing import (
    BusinessSectorChanged,
    PeriodPrice,
    PlanChanged,
    PlanPublished,
)

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


def set_sector(sector: str) -> domain.SetSector:
    return domain.SetSector(now=NOW, account_id="acc-1", sector=sector, actor="u-1")


def changed(sector: str) -> BusinessSectorChanged:
    return BusinessSectorChanged(occurred_at=NOW, account_id="acc-1", sector=sector, actor="u-1")


def test_the_account_chooses_its_sector_from_the_list() -> None:
    assert decide_account(set_sector("retail"), BillingAccount()) == [changed("retail")]
    state = account_decider.fold(BillingAccount(), [changed("retail")])
    assert state.sector == "retail"
    assert decide_account(set_sector("retail"), state) == []
    assert decide_account(set_sector("food_beverage"), state) == [changed("food_beverage")]


def test_a_sector_not_on_the_list_is_refused() -> None:
    with pytest.raises(DomainError) as err:
        decide_account(set_sector("Retail "), BillingAccount())
    assert err.value.code == "sector_unknown"
    assert "food_beverage" in err.value.extra["allowed"]


def test_a_plan_carries_the_sectors_it_suits() -> None:
    publish = domain.PublishPlan(
        now=NOW,
        plan_id="sw-pro",
        code="SW-PRO",
        name="Store software Professional",
        category="software",
        tier="professional",
        monthly_price=250_000,
        currency="VND",
        periods=(PeriodPrice(months=1),),
        sectors=("retail", "fashion"),
    )
    [published] = decide_plan(publish, Plan())
    assert isinstance(published, PlanPublished) and published.sectors == ["retail", "fashion"]
    state = domain.plan_decider.fold(Plan(), [published])
    assert state.sectors == ("retail", "fashion")
    change = domain.ChangePlan(
        now=NOW,
        name=state.name,
        monthly_price=250_000,
        periods=state.periods,
        sectors=("retail", "food_beverage"),
    )
    [changed_plan] = decide_plan(change, state)
    assert isinstance(changed_plan, PlanChanged)
    assert domain.plan_decider.fold(state, [changed_plan]).sectors == ("retail", "food_beverage")
    for bad in (("shoes",), ("retail", "retail")):
        with pytest.raises(DomainError) as err:
            decide_plan(domain.PublishPlan(**{**publish.__dict__, "sectors": bad}), Plan())
        assert err.value.code == "sector_unknown"
