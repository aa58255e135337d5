"""Orders: a new subscription, a renewal or an upgrade, each issued as an invoice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from portal_billing import (
    domain,
    payments,
    queries,
    streams,
)
from portal_billing.deps import (
    Deps,
    PaymentInProgress,
    derived_id,
    number,
    today,
)
from portal_billing.domain import Invoice, Plan
from portal_billing.models import (
    InvoiceOut,
    RenewIn,
    UpgradeIn,
    UpgradePreviewOut,
)
from portal_billing.views import (
    order_lines,
)
from portal_chassis.auth import Principal
from portal_chassis.decider import Conflict, DomainError
from portal_chassis.logging import get_logger
from portal_chassis.mongo import update_by_id
from portal_chassis.usecases import meta
from portal_contracts.events.billing import (
    InvoiceLine,
    OrderKind,
)

log = get_logger(__name__)


async def issue(
    deps: Deps,
    *,
    key: str | None,
    fingerprint: str,
    account_id: str,
    actor: str,
    order_kind: OrderKind,
    subscription_id: str | None,
    plan: Plan,
    months: int,
    lines: tuple[InvoiceLine, ...],
    upgrade_from: str | None = None,
    upgrade_credit: int = 0,
    upgrade_extension: int = 0,
    trial_days: int = 0,
    invoice_id: str | None = None,
    before: Callable[[str], Awaitable[None]] | None = None,
) -> Invoice:
    """Issue the order's invoice once per request key (`subscription_id` None: a new one,
    named after the invoice); `before(invoice_id)` is a last check made only for a new
    invoice."""
    now = deps.clock.now()
    total = sum(line.amount for line in lines)

    def command(invoice_id: str) -> domain.IssueInvoice:
        return domain.IssueInvoice(
            now=now,
            invoice_id=invoice_id,
            account_id=account_id,
            proforma_number="pending",
            order_id="pending",
            order_kind=order_kind,
            subscription_id=subscription_id or derived_id("subscription", invoice_id),
            plan=plan,
            months=months,
            lines=lines,
            due_at=now + timedelta(days=deps.settings.invoice_due_days),
            invoice_number="pending" if total == 0 else None,
            upgrade_from_plan_id=upgrade_from,
            upgrade_credit=upgrade_credit,
            upgrade_extension=upgrade_extension,
            trial_days=trial_days,
        )

    async def allocate(command: domain.InvoiceCommand) -> domain.InvoiceCommand:
        assert isinstance(command, domain.IssueInvoice)
        if before is not None:
            await before(command.invoice_id)
        order_id = await number(deps, "OD")
        return replace(
            command,
            order_id=order_id,
            proforma_number=await number(deps, "PF"),
            invoice_number=await number(deps, "INV") if total == 0 else None,
        )

    started = await deps.starts.start(
        deps.invoices,
        new_id=invoice_id or deps.new_id(),
        stream_of=domain.invoice_stream,
        command=command,
        key=key,
        fingerprint=fingerprint,
        allocate=allocate,
        metadata=meta(account_id, actor),
    )
    state = started.state
    if not started.created:
        return state  # the same request again: the invoice already exists
    await update_by_id(
        deps.codes,
        state.order_id,
        {"$set": {"account_id": account_id, "kind": "order", "invoice_id": state.invoice_id}},
    )
    await streams.after_invoice(deps, state.invoice_id, actor, started.outcome)
    if total > 0 and await streams.auto_pay_enabled(deps, account_id):
        try:
            await payments.pay_from_wallet(
                deps,
                state,
                state.due,
                payment_id=derived_id("auto", state.invoice_id),
                channel="wallet",
                reference=state.proforma_number,
                actor="auto-pay",
            )
        except DomainError as exc:
            log.info("auto-pay skipped", invoice_id=state.invoice_id, code=exc.code)
        except PaymentInProgress:
            pass  # started; the payment sweep finishes it with the same key
    state, _ = await deps.invoices.current(domain.invoice_stream(state.invoice_id))
    return state


async def _sold_plan(deps: Deps, plan_id: str) -> Plan:
    plan = await streams.plan(deps, plan_id)
    if plan.status != "active":
        raise DomainError("plan_not_available", "this plan is not sold any more")
    return plan


async def place_order(
    deps: Deps, principal: Principal, plan_id: str, months: int | None, key: str | None
) -> InvoiceOut:
    plan = await _sold_plan(deps, plan_id)
    if months is None:
        raise DomainError("months_required", "choose how many months to buy")
    price = plan.price(months)  # refuses a period the plan is not sold for
    lines = order_lines(plan, months, price)
    state = await issue(
        deps,
        key=f"order|{principal.account_id}|{key}" if key else None,
        fingerprint=f"{plan_id}|{months}",
        account_id=principal.account_id,
        actor=principal.user_id,
        order_kind="new",
        subscription_id=None,
        plan=plan,
        months=months,
        lines=lines,
    )
    return await queries.invoice_answer(deps, state.invoice_id)


async def start_trial(
    deps: Deps, principal: Principal, plan_id: str, months: int | None, key: str | None
) -> InvoiceOut:
    """A free order of the plan's trial: its invoice costs nothing, so it is paid when
    issued and the subscription starts on trial. The account's one trial of the plan is
    claimed just before the invoice is stored (a retry under the key claims it again as
    the same order)."""
    plan = await _sold_plan(deps, plan_id)
    if months is not None:
        raise DomainError("months_not_for_trial", "a trial buys no months; leave them out")
    if plan.trial_days <= 0:
        raise DomainError("trial_not_offered", f"{plan.name} has no trial", plan_id=plan.plan_id)

    async def claim(invoice_id: str) -> None:
        await deps.accounts.run(
            domain.account_stream(principal.account_id),
            domain.ClaimTrial(
                now=deps.clock.now(),
                account_id=principal.account_id,
                plan=plan,
                invoice_id=invoice_id,
            ),
            metadata=meta(principal.account_id, principal.user_id),
        )

    line = InvoiceLine(description=f"{plan.name}, {plan.trial_days}-day trial", amount=0)
    state = await issue(
        deps,
        key=f"order|{principal.account_id}|{key}" if key else None,
        fingerprint=f"{plan.plan_id}|trial",
        account_id=principal.account_id,
        actor=principal.user_id,
        order_kind="new",
        subscription_id=None,
        plan=plan,
        months=0,
        lines=(line,),
        trial_days=plan.trial_days,
        before=claim,
    )
    return await queries.invoice_answer(deps, state.invoice_id)


async def open_change(deps: Deps, subscription_id: str) -> None:
    """One pending renewal or upgrade at a time keeps quotes and end dates coherent."""
    pending = await deps.invoices_view.find_one(
        {"subscription_id": subscription_id, "status": {"$in": list(domain.OPEN)}}
    )
    if pending is not None:
        raise Conflict(
            "invoice_pending",
            "this subscription has an unpaid invoice; pay or cancel it first",
            invoice_id=pending["_id"],
        )


async def renew(
    deps: Deps, principal: Principal, subscription_id: str, data: RenewIn, key: str | None
) -> InvoiceOut:
    sub = await streams.own_subscription(deps, principal, subscription_id)
    # A retired plan is only no longer sold to new customers: its subscribers renew it.
    plan = await streams.plan(deps, sub.plan_id)
    price = plan.price(data.months)
    _check_payment(principal, data, price)
    base = domain.renewal_base(sub, today(deps))
    lines = order_lines(plan, data.months, price, f" (renewal from {base.isoformat()})")
    state = await issue(
        deps,
        key=f"renew|{sub.account_id}|{key}" if key else None,
        before=lambda _: open_change(deps, subscription_id),
        fingerprint=f"{subscription_id}|{data.months}",
        account_id=sub.account_id,
        actor=principal.user_id,
        order_kind="renewal",
        subscription_id=subscription_id,
        plan=plan,
        months=data.months,
        lines=lines,
    )
    return await _settle(deps, principal, state, data, key)


async def upgrade_preview(
    deps: Deps, principal: Principal, subscription_id: str, plan_id: str, months: int = 0
) -> UpgradePreviewOut:
    sub = await streams.own_subscription(deps, principal, subscription_id)
    new = await streams.plan(deps, plan_id)
    quote = domain.upgrade_quote(sub, new, today(deps), months)
    preview = {
        "subscription_id": subscription_id,
        "from": {"plan_id": sub.plan_id, "tier": sub.tier, "name": sub.plan_name},
        "to": {"plan_id": new.plan_id, "tier": new.tier, "name": new.name},
        "effective_on": today(deps),
        "ends_on": sub.ends_on,
        "remaining_days": quote.remaining_days,
        "period_days": quote.period_days,
        "credit": quote.credit,
        "charge": quote.charge,
        "months": quote.months,
        "extension": quote.extension,
        "new_ends_on": quote.ends_on,
        "amount_due": quote.total,
        "currency": sub.currency,
        "rounding": "credit rounded down, charge rounded up, to the currency's minor unit",
    }
    return UpgradePreviewOut.model_validate(preview)


async def upgrade(
    deps: Deps, principal: Principal, subscription_id: str, data: UpgradeIn, key: str | None
) -> InvoiceOut:
    sub = await streams.own_subscription(deps, principal, subscription_id)
    scoped = f"upgrade|{sub.account_id}|{key}" if key else None
    # The months join the fingerprint only when bought: older keys stay comparable.
    fingerprint = f"{subscription_id}|{data.plan_id}" + (f"|{data.months}" if data.months else "")
    done = await deps.starts.earlier(scoped, fingerprint) if scoped else None
    if done is not None:
        # A retry answers the first result: quoting again would refuse the upgrade done.
        state, version = await deps.invoices.load(domain.invoice_stream(done))
        if version > 0:
            return await _settle(deps, principal, state, data, key)
    new = await streams.plan(deps, data.plan_id)
    quote = domain.upgrade_quote(sub, new, today(deps), data.months)
    if data.expected_charge is not None and data.expected_charge != quote.total:
        raise Conflict(
            "quote_changed",
            "the upgrade price changed since the preview; preview again",
            charge=quote.total,
        )
    _check_payment(principal, data, quote.total)
    lines = (
        InvoiceLine(
            description=f"{new.name}: {quote.remaining_days} remaining days",
            amount=quote.credit + quote.charge,
        ),
        InvoiceLine(
            description=f"Unused value of {sub.plan_name} ({quote.remaining_days} days)",
            amount=-quote.credit,
        ),
    )
    if quote.months:
        assert sub.ends_on is not None  # an active subscription has an end
        extension = order_lines(new, quote.months, quote.extension, f" from {sub.ends_on}")
        lines = (*lines, *extension)
    state = await issue(
        deps,
        key=scoped,
        before=lambda _: open_change(deps, subscription_id),
        fingerprint=fingerprint,
        account_id=sub.account_id,
        actor=principal.user_id,
        order_kind="upgrade",
        subscription_id=subscription_id,
        plan=new,
        months=quote.months,
        lines=lines,
        upgrade_from=sub.plan_id,
        upgrade_credit=quote.credit,
        upgrade_extension=quote.extension,
    )
    return await _settle(deps, principal, state, data, key)


def _check_payment(principal: Principal, data: RenewIn | UpgradeIn, total: int) -> None:
    """Before anything is issued: a payment that could never be made changes nothing. Any
    payment (the chosen one, or the wallet's by default) needs a confirmed address, as
    paying an invoice does."""
    payment = data.payment
    if payment is None and not (data.pay_from_wallet and total > 0):
        return
    principal.require_verified_email()
    if payment is not None and payment.amount is not None and payment.amount > total:
        raise DomainError("amount_exceeds_due", "pay at most the invoice's total", amount_due=total)


async def _settle(
    deps: Deps, principal: Principal, state: Invoice, data: RenewIn | UpgradeIn, key: str | None
) -> InvoiceOut:
    if data.payment is None:
        return await _pay_now_if_asked(deps, principal, state, data.pay_from_wallet, key)
    if state.due == 0:
        return await queries.invoice_answer(deps, state.invoice_id)
    try:
        # The same use case as paying the invoice later: one payment per request key.
        return await payments.pay(deps, principal, state.invoice_id, data.payment, key)
    except DomainError as exc:
        if exc.code != "insufficient_balance":
            raise
        # Chosen, not defaulted: the invoice stays open, to be paid another way; the
        # problem names it (the wallet's own status and code are kept).
        exc.extra = {**exc.extra, "invoice_id": state.invoice_id}
        raise


async def _pay_now_if_asked(
    deps: Deps, principal: Principal, state: Invoice, pay: bool, key: str | None
) -> InvoiceOut:
    if pay and state.due > 0:
        try:
            await payments.pay_from_wallet(
                deps,
                state,
                state.due,
                payment_id=derived_id("pay-now", state.invoice_id),
                channel="wallet",
                reference=state.proforma_number,
                actor=principal.user_id,
            )
        except DomainError as exc:
            if exc.code != "insufficient_balance":
                raise
            # Nothing was paid: the new invoice is withdrawn so nothing is left behind.
            await streams.run_invoice(
                deps,
                state.invoice_id,
                domain.CancelInvoice(now=deps.clock.now(), reason="payment_rejected"),
                state.account_id,
                principal.user_id,
            )
            raise
        except PaymentInProgress:
            pass  # the invoice shows the payment in progress; the sweep finishes it
    return await queries.invoice_answer(deps, state.invoice_id)
