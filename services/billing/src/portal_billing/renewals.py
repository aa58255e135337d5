"""The expiry scheduler: notices, automatic renewals, expiry; auto-renewal settings."""

from __future__ import annotations

from datetime import timedelta

from portal_billing import (
    domain,
    orders,
    streams,
)
from portal_billing.deps import (
    ADMINS,
    Deps,
    derived_id,
    today,
)
from portal_billing.domain import Subscription
from portal_billing.models import (
    ExpiryCheckOut,
    SubscriptionOut,
)
from portal_billing.views import (
    order_lines,
    subscription_row,
)
from portal_chassis.auth import Principal
from portal_chassis.decider import DomainError, Forbidden
from portal_chassis.logging import get_logger

log = get_logger(__name__)


async def expiry_check(deps: Deps, principal: Principal) -> ExpiryCheckOut:
    """The scheduler's step run by hand (billing admins only)."""
    if not ADMINS.held_by(principal):
        raise Forbidden("forbidden", "only billing admins run the scheduler by hand")
    return ExpiryCheckOut(changed=await check_expiry(deps))


async def check_expiry(deps: Deps) -> int:
    """The scheduler's step: notices at <= N days left, automatic renewals issued with
    them, expiry at the end date."""
    notice_until = today(deps) + timedelta(days=deps.settings.expiry_notice_days)
    changed = 0
    async for row in deps.subscriptions_view.find(
        {"status": "active", "ends_on": {"$lte": notice_until.isoformat()}}
    ):
        state = await streams.run_subscription(
            deps,
            row["_id"],
            domain.CheckExpiry(
                now=deps.clock.now(),
                today=today(deps),
                notice_days=deps.settings.expiry_notice_days,
                reminder_days=deps.settings.expiry_reminder_days,
            ),
            row["account_id"],
            "scheduler",
        )
        changed += state.status != row["status"] or state.expiring_notice_for is not None
        if domain.auto_renewal_due(state, today(deps), deps.settings.expiry_notice_days):
            await auto_renew(deps, state)
    return changed


async def auto_renew(deps: Deps, sub: Subscription) -> None:
    """This term's renewal invoice, issued once: its id is derived from the term."""
    assert sub.ends_on is not None and sub.auto_renew_months is not None
    invoice_id = derived_id("auto-renew", sub.subscription_id, sub.ends_on.isoformat())
    known, _ = await deps.invoices.load(domain.invoice_stream(invoice_id))
    if known.status != "none":
        return  # issued on an earlier sweep (paid, open or cancelled by the customer)
    months = sub.auto_renew_months
    try:
        plan = await streams.plan(deps, sub.plan_id)  # retired too: its subscribers renew it
        price = plan.price(months)
        await orders.open_change(deps, sub.subscription_id)  # a renewal the customer started
    except DomainError as exc:
        log.info("auto-renewal skipped", subscription_id=sub.subscription_id, code=exc.code)
        return
    base = domain.renewal_base(sub, today(deps))
    lines = order_lines(plan, months, price, f" (automatic renewal from {base.isoformat()})")
    await orders.issue(
        deps,
        key=None,  # the id, derived from the term, makes it once
        fingerprint="",
        account_id=sub.account_id,
        actor="auto-renew",
        invoice_id=invoice_id,
        order_kind="renewal",
        subscription_id=sub.subscription_id,
        plan=plan,
        months=months,
        lines=lines,
    )


async def set_auto_renew(
    deps: Deps, principal: Principal, subscription_id: str, enabled: bool, months: int | None
) -> SubscriptionOut:
    sub = await streams.own_subscription(deps, principal, subscription_id)
    plan = await streams.plan(deps, sub.plan_id)  # retired too: its subscribers renew it
    state = await streams.run_subscription(
        deps,
        subscription_id,
        domain.SetAutoRenew(
            now=deps.clock.now(),
            months=(months or sub.last_months or 1) if enabled else None,
            allowed_months=tuple(p.months for p in plan.periods),
            actor=principal.user_id,
        ),
        sub.account_id,
        principal.user_id,
    )
    result = SubscriptionOut.model_validate(
        {"id": subscription_id, **subscription_row(state, today(deps))}
    )
    # This term may already be inside the notice window: renew now, not next sweep.
    if domain.auto_renewal_due(state, today(deps), deps.settings.expiry_notice_days):
        await auto_renew(deps, state)
    return result
