"""The catalogue: billing admins publish, change and retire plans; anyone reads the price list."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from portal_billing import (
    domain,
    streams,
)
from portal_billing.deps import (
    ADMINS,
    Deps,
)
from portal_billing.models import (
    PlanIn,
    PlanOut,
    PlansOut,
    PlanTermsIn,
)
from portal_billing.views import (
    plan_row,
    strip_id,
)
from portal_chassis.auth import Principal
from portal_chassis.decider import Conflict
from portal_contracts.events.billing import (
    PeriodPrice,
)


async def publish_plan(deps: Deps, principal: Principal, data: PlanIn) -> PlanOut:
    ADMINS.require(principal)
    code = data.code.strip().upper()
    plan_id = code.lower()
    try:
        await deps.codes.insert_one({"_id": f"plan:{code}", "plan_id": plan_id})
    except DuplicateKeyError:
        raise Conflict("plan_code_taken", f"a plan with code {code} exists") from None
    state = await streams.run_plan(
        deps,
        plan_id,
        domain.PublishPlan(
            now=deps.clock.now(),
            plan_id=plan_id,
            code=code,
            name=data.name,
            category=data.category,
            tier=data.tier,
            monthly_price=data.monthly_price,
            currency=deps.settings.currency,
            periods=tuple(PeriodPrice(**p.model_dump()) for p in data.periods),
            description=data.description,
            trial_days=data.trial_days,
            sectors=tuple(data.sectors),
        ),
        principal.user_id,
    )
    return PlanOut.model_validate(plan_row(state))


async def change_plan(deps: Deps, principal: Principal, plan_id: str, data: PlanTermsIn) -> PlanOut:
    ADMINS.require(principal)
    state = await streams.run_plan(
        deps,
        plan_id,
        domain.ChangePlan(
            now=deps.clock.now(),
            name=data.name,
            monthly_price=data.monthly_price,
            periods=tuple(PeriodPrice(**p.model_dump()) for p in data.periods),
            description=data.description,
            trial_days=data.trial_days,
            sectors=tuple(data.sectors),
        ),
        principal.user_id,
    )
    return PlanOut.model_validate(plan_row(state))


async def retire_plan(deps: Deps, principal: Principal, plan_id: str) -> PlanOut:
    ADMINS.require(principal)
    state = await streams.run_plan(
        deps, plan_id, domain.RetirePlan(now=deps.clock.now()), principal.user_id
    )
    return PlanOut.model_validate(plan_row(state))


async def plan_view(deps: Deps, plan_id: str) -> PlanOut:
    """A plan of the price list (public: anyone may see what is for sale)."""
    return PlanOut.model_validate(plan_row(await streams.plan(deps, plan_id)))


async def list_plans(
    deps: Deps,
    principal: Principal | None,
    *,
    include_retired: bool,
    category: str | None,
    tier: str | None,
    sector: str | None = None,
) -> PlansOut:
    """The price list (public); retired plans only for billing admins who ask; `sector`:
    the plans suited to it (the store profile's suggestions)."""
    include_retired = include_retired and principal is not None and ADMINS.held_by(principal)
    query: dict[str, Any] = {} if include_retired else {"status": "active"}
    if category:
        query["category"] = category
    if tier:
        query["tier"] = tier
    if sector:
        query["sectors"] = sector  # an element of the list
    rows = [strip_id(r) async for r in deps.plans_view.find(query).sort("code", 1)]
    order = {t: i for i, t in enumerate(domain.TIERS)}
    rows.sort(key=lambda r: (r["category"], order.get(r["tier"], 9), r["code"]))
    return PlansOut.model_validate({"items": rows, "total": len(rows)})
