"""Billing aggregates: the plan catalogue, invoices (with payments and claims), subscriptions.

Pure code: time, ids and document numbers come in with the commands.

Money rules (all integers in the currency's minor unit, VND has none):
- A period's price is `monthly * months * (100 - discount%) // 100` (rounded down).
- An upgrade credits the unused value of the current plan pro rata by day, rounded down,
  and charges the remaining days at the new plan's price on the same terms (same period
  discount), rounded up: credit = floor(V * r / d), charge = ceil(V * r * (P2 - P1) / (d * P1)),
  where V is what the current period cost, d its days, r the days left, P1/P2 the monthly
  prices. The end date never moves.
- A payment applies at most what is due; the excess always ends in the customer's wallet.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.billing import (
    AutoPaySettingChanged,
    BillingEvent,
    InvoiceCancelled,
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
    InvoicePaymentRecorded,
    InvoiceRefunded,
    OrderKind,
    PaymentChannel,
    PaymentClaimApproved,
    PaymentClaimFiled,
    PaymentClaimRejected,
    PeriodPrice,
    PlanChanged,
    PlanPublished,
    PlanRetired,
    PlanUpgraded,
    SubscriptionExpired,
    SubscriptionExpiring,
    SubscriptionRenewed,
    SubscriptionStarted,
    Tier,
)

TIERS: tuple[Tier, ...] = ("support", "professional", "premium")
ALLOWED_PERIODS = (1, 3, 6, 12, 24)
PLATFORM = "platform"


def plan_stream(plan_id: str) -> str:
    return f"plan-{plan_id}"


def invoice_stream(invoice_id: str) -> str:
    return f"invoice-{invoice_id}"


def subscription_stream(subscription_id: str) -> str:
    return f"subscription-{subscription_id}"


def account_stream(account_id: str) -> str:
    return f"billing-account-{account_id}"


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# ============================================================== the plan catalogue


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


@dataclass(frozen=True)
class ChangePlan:
    now: datetime
    name: str
    monthly_price: int
    periods: tuple[PeriodPrice, ...]
    description: str = ""


@dataclass(frozen=True)
class RetirePlan:
    now: datetime


PlanCommand = PublishPlan | ChangePlan | RetirePlan


def _check_terms(monthly_price: int, periods: Sequence[PeriodPrice]) -> None:
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
    if isinstance(command, PublishPlan):
        if state.status != "none":
            if state.code == command.code and state.monthly_price == command.monthly_price:
                return []  # the same publication again (seeding, a retry)
            raise Conflict("plan_exists", "this plan is already published")
        _check_terms(command.monthly_price, command.periods)
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
            )
        ]
    if state.status == "none":
        raise NotFound("plan_not_found", "no such plan")
    if isinstance(command, ChangePlan):
        if state.status == "retired":
            raise Conflict("plan_retired", "a retired plan cannot be changed")
        _check_terms(command.monthly_price, command.periods)
        return [
            PlanChanged(
                occurred_at=command.now,
                account_id=PLATFORM,
                plan_id=state.plan_id,
                name=command.name,
                monthly_price=command.monthly_price,
                periods=list(command.periods),
                description=command.description,
            )
        ]
    if state.status == "retired":
        return []
    return [PlanRetired(occurred_at=command.now, account_id=PLATFORM, plan_id=state.plan_id)]


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
        )
    if isinstance(event, PlanChanged):
        return state.model_copy(
            update={
                "name": event.name,
                "monthly_price": event.monthly_price,
                "periods": tuple(event.periods),
                "description": event.description,
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


# ============================================================== invoices


InvoiceStatus = Literal["none", "unpaid", "partially_paid", "paid", "cancelled"]
OPEN = ("unpaid", "partially_paid")


class Claim(BaseModel):
    model_config = ConfigDict(frozen=True)
    claim_id: str
    status: Literal["under_review", "approved", "rejected"]
    amount: int
    reference: str


class Invoice(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: InvoiceStatus = "none"
    invoice_id: str = ""
    account_id: str = ""
    proforma_number: str = ""
    invoice_number: str | None = None
    order_id: str = ""
    order_kind: OrderKind = "new"
    subscription_id: str = ""
    plan_id: str = ""
    months: int = 0
    total: int = 0
    paid: int = 0
    refunded: int = 0
    currency: str = "VND"
    payments: tuple[str, ...] = ()
    refunds: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()

    @property
    def due(self) -> int:
        return self.total - self.paid if self.status in OPEN else 0

    def claim(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.claim_id == claim_id:
                return claim
        raise NotFound("claim_not_found", "no such payment claim")


@dataclass(frozen=True)
class IssueInvoice:
    now: datetime
    invoice_id: str
    account_id: str
    proforma_number: str
    order_id: str
    order_kind: OrderKind
    subscription_id: str
    plan: Plan
    months: int
    lines: tuple[InvoiceLine, ...]
    due_at: datetime
    invoice_number: str | None = None
    """Given when the total is zero: such an invoice is paid the moment it is issued."""
    upgrade_from_plan_id: str | None = None
    upgrade_credit: int = 0


@dataclass(frozen=True)
class RecordPayment:
    now: datetime
    payment_id: str
    channel: PaymentChannel
    amount: int
    """Money billing received or took for this invoice."""
    reference: str
    invoice_number: str | None = None
    """The invoice number to use if this payment completes the invoice."""
    kept_in_wallet: int = 0
    """Provider payments: what arrived beyond the amount taken (it stayed in the wallet)."""


@dataclass(frozen=True)
class CancelInvoice:
    now: datetime
    reason: Literal["customer_stopped", "payment_rejected", "staff", "superseded"]


@dataclass(frozen=True)
class FileClaim:
    now: datetime
    claim_id: str
    reference: str
    amount: int
    paid_on: date | None
    proof_file_id: str | None
    review_due_at: datetime


@dataclass(frozen=True)
class ApproveClaim:
    now: datetime
    claim_id: str
    reviewer: str
    payment_id: str
    invoice_number: str | None = None


@dataclass(frozen=True)
class RejectClaim:
    now: datetime
    claim_id: str
    reviewer: str
    reason: str


@dataclass(frozen=True)
class RefundInvoice:
    now: datetime
    refund_id: str
    amount: int
    reason: str


InvoiceCommand = (
    IssueInvoice
    | RecordPayment
    | CancelInvoice
    | FileClaim
    | ApproveClaim
    | RejectClaim
    | RefundInvoice
)


class InvoiceNumberNeeded(DomainError):
    """This payment completes the invoice: call again with an invoice number."""

    def __init__(self) -> None:
        super().__init__("invoice_number_needed", "the payment completes the invoice")


def _payment(
    state: Invoice,
    now: datetime,
    payment_id: str,
    channel: PaymentChannel,
    amount: int,
    reference: str,
    invoice_number: str | None,
    kept_in_wallet: int = 0,
) -> list[BillingEvent]:
    if amount <= 0:
        raise DomainError("amount_not_positive", "a payment is greater than zero")
    applied = min(amount, state.due)
    completes = applied > 0 and applied == state.due
    if completes and not invoice_number:
        raise InvoiceNumberNeeded()
    events: list[BillingEvent] = [
        InvoicePaymentRecorded(
            occurred_at=now,
            account_id=state.account_id,
            invoice_id=state.invoice_id,
            payment_id=payment_id,
            channel=channel,
            amount=amount + kept_in_wallet,
            applied=applied,
            excess=amount + kept_in_wallet - applied,
            credited_to_wallet=amount - applied,
            amount_due_after=state.due - applied,
            currency=state.currency,
            reference=reference,
        )
    ]
    if completes:
        assert invoice_number is not None
        events.append(_paid(state, now, invoice_number))
    return events


def _paid(state: Invoice, now: datetime, invoice_number: str) -> InvoicePaid:
    return InvoicePaid(
        occurred_at=now,
        account_id=state.account_id,
        invoice_id=state.invoice_id,
        invoice_number=invoice_number,
        order_id=state.order_id,
        order_kind=state.order_kind,
        subscription_id=state.subscription_id,
        amount_spent=state.total,
        currency=state.currency,
    )


def decide_invoice(command: InvoiceCommand, state: Invoice) -> Sequence[BillingEvent]:
    if isinstance(command, IssueInvoice):
        if state.status != "none":
            return []
        total = sum(line.amount for line in command.lines)
        if total < 0:
            raise DomainError("negative_total", "an invoice total is never negative")
        plan = command.plan
        issued = InvoiceIssued(
            occurred_at=command.now,
            account_id=command.account_id,
            invoice_id=command.invoice_id,
            proforma_number=command.proforma_number,
            order_id=command.order_id,
            order_kind=command.order_kind,
            subscription_id=command.subscription_id,
            plan_id=plan.plan_id,
            plan_code=plan.code,
            plan_name=plan.name,
            category=plan.category,
            tier=plan.tier,
            months=command.months,
            lines=list(command.lines),
            total=total,
            currency=plan.currency,
            due_at=command.due_at,
            upgrade_from_plan_id=command.upgrade_from_plan_id,
            upgrade_credit=command.upgrade_credit,
        )
        if total > 0:
            return [issued]
        if not command.invoice_number:
            raise InvoiceNumberNeeded()
        return [issued, _paid(evolve_invoice(state, issued), command.now, command.invoice_number)]
    if state.status == "none":
        raise NotFound("invoice_not_found", "no such invoice")
    if isinstance(command, RecordPayment):
        if command.payment_id in state.payments:
            return []
        return _payment(
            state,
            command.now,
            command.payment_id,
            command.channel,
            command.amount,
            command.reference,
            command.invoice_number,
            command.kept_in_wallet,
        )
    if isinstance(command, CancelInvoice):
        if state.status == "cancelled":
            return []
        if state.status == "paid":
            raise Conflict("invoice_paid", "a paid invoice cannot be cancelled; ask for a refund")
        return [
            InvoiceCancelled(
                occurred_at=command.now,
                account_id=state.account_id,
                invoice_id=state.invoice_id,
                order_id=state.order_id,
                reason=command.reason,
                refunded_to_wallet=state.paid,
                currency=state.currency,
            )
        ]
    if isinstance(command, FileClaim):
        if state.status not in OPEN:
            raise Conflict("invoice_not_payable", f"the invoice is {state.status}")
        if command.amount <= 0:
            raise DomainError("amount_not_positive", "the amount paid is greater than zero")
        if any(c.claim_id == command.claim_id for c in state.claims):
            return []
        if any(
            c.reference == command.reference and c.status == "under_review" for c in state.claims
        ):
            raise Conflict("claim_exists", "a claim with this reference is already under review")
        return [
            PaymentClaimFiled(
                occurred_at=command.now,
                account_id=state.account_id,
                invoice_id=state.invoice_id,
                claim_id=command.claim_id,
                reference=command.reference,
                amount=command.amount,
                currency=state.currency,
                paid_on=command.paid_on,
                proof_file_id=command.proof_file_id,
                review_due_at=command.review_due_at,
            )
        ]
    if isinstance(command, ApproveClaim):
        claim = state.claim(command.claim_id)
        if claim.status == "approved":
            return []
        if claim.status != "under_review":
            raise Conflict("claim_decided", f"the claim was already {claim.status}")
        approved = PaymentClaimApproved(
            occurred_at=command.now,
            account_id=state.account_id,
            invoice_id=state.invoice_id,
            claim_id=claim.claim_id,
            reviewer=command.reviewer,
        )
        return [
            approved,
            *_payment(
                state,
                command.now,
                command.payment_id,
                "claim",
                claim.amount,
                claim.reference,
                command.invoice_number,
            ),
        ]
    if isinstance(command, RejectClaim):
        claim = state.claim(command.claim_id)
        if claim.status == "rejected":
            return []
        if claim.status != "under_review":
            raise Conflict("claim_decided", f"the claim was already {claim.status}")
        if not command.reason.strip():
            raise DomainError("reason_required", "say why the payment is rejected")
        return [
            PaymentClaimRejected(
                occurred_at=command.now,
                account_id=state.account_id,
                invoice_id=state.invoice_id,
                claim_id=claim.claim_id,
                reviewer=command.reviewer,
                reason=command.reason.strip(),
            )
        ]
    if isinstance(command, RefundInvoice):
        if command.refund_id in state.refunds:
            return []
        if state.status != "paid":
            raise Conflict("invoice_not_paid", "only a paid invoice is refunded")
        if command.amount <= 0:
            raise DomainError("amount_not_positive", "a refund is greater than zero")
        if command.amount > state.total - state.refunded:
            raise DomainError(
                "refund_too_large",
                "a refund cannot exceed what was paid and not yet refunded",
                refundable=state.total - state.refunded,
            )
        return [
            InvoiceRefunded(
                occurred_at=command.now,
                account_id=state.account_id,
                invoice_id=state.invoice_id,
                refund_id=command.refund_id,
                invoice_number=state.invoice_number or "",
                amount=command.amount,
                currency=state.currency,
                reason=command.reason,
            )
        ]
    raise TypeError(f"unknown command {command!r}")


def evolve_invoice(state: Invoice, event: BillingEvent) -> Invoice:
    if isinstance(event, InvoiceIssued):
        return Invoice(
            status="unpaid",
            invoice_id=event.invoice_id,
            account_id=event.account_id,
            proforma_number=event.proforma_number,
            order_id=event.order_id,
            order_kind=event.order_kind,
            subscription_id=event.subscription_id,
            plan_id=event.plan_id,
            months=event.months,
            total=event.total,
            currency=event.currency,
        )
    if isinstance(event, InvoicePaymentRecorded):
        paid = state.paid + event.applied
        status: InvoiceStatus = state.status
        if state.status in OPEN and event.applied > 0:
            status = "partially_paid"
        return state.model_copy(
            update={"paid": paid, "status": status, "payments": (*state.payments, event.payment_id)}
        )
    if isinstance(event, InvoicePaid):
        return state.model_copy(update={"status": "paid", "invoice_number": event.invoice_number})
    if isinstance(event, InvoiceCancelled):
        return state.model_copy(update={"status": "cancelled"})
    if isinstance(event, InvoiceRefunded):
        return state.model_copy(
            update={
                "refunded": state.refunded + event.amount,
                "refunds": (*state.refunds, event.refund_id),
            }
        )
    if isinstance(event, PaymentClaimFiled):
        claim = Claim(
            claim_id=event.claim_id,
            status="under_review",
            amount=event.amount,
            reference=event.reference,
        )
        return state.model_copy(update={"claims": (*state.claims, claim)})
    if isinstance(event, PaymentClaimApproved | PaymentClaimRejected):
        decided: Literal["approved", "rejected"] = (
            "approved" if isinstance(event, PaymentClaimApproved) else "rejected"
        )
        claims = tuple(
            c.model_copy(update={"status": decided}) if c.claim_id == event.claim_id else c
            for c in state.claims
        )
        return state.model_copy(update={"claims": claims})
    return state


invoice_decider: Decider[InvoiceCommand, Invoice, BillingEvent] = Decider(
    initial_state=Invoice(),
    decide=decide_invoice,
    evolve=evolve_invoice,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Invoice.model_validate,
)


# ============================================================== subscriptions


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


@dataclass(frozen=True)
class UpgradeQuote:
    remaining_days: int
    period_days: int
    credit: int
    charge: int


def upgrade_quote(sub: Subscription, new: Plan, today: date) -> UpgradeQuote:
    """What moving `sub` to `new` today credits and costs (see the module docstring)."""
    if sub.status != "active" or sub.ends_on is None or sub.period_start is None:
        raise Conflict("subscription_not_active", "only an active subscription is upgraded")
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
    return UpgradeQuote(remaining, period_days, credit, charge)


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


@dataclass(frozen=True)
class CheckExpiry:
    now: datetime
    today: date
    notice_days: int


SubscriptionCommand = StartSubscription | RenewSubscription | ApplyUpgrade | CheckExpiry


def renewal_base(sub: Subscription, today: date) -> date:
    """A renewal extends from the current end date; a lapsed contract restarts today."""
    assert sub.ends_on is not None
    return sub.ends_on if sub.ends_on >= today else today


def decide_subscription(
    command: SubscriptionCommand, state: Subscription
) -> Sequence[BillingEvent]:
    if isinstance(command, StartSubscription):
        if state.status != "none":
            return []
        if command.months <= 0:
            raise DomainError("months_not_positive", "a subscription runs at least one month")
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
                ends_on=add_months(command.today, command.months),
                amount=command.amount,
                currency=plan.currency,
                monthly_price=plan.monthly_price,
            )
        ]
    if state.status == "none":
        raise NotFound("subscription_not_found", "no such subscription")
    assert state.ends_on is not None
    if isinstance(command, RenewSubscription):
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
            )
        ]
    if isinstance(command, ApplyUpgrade):
        if command.invoice_id in state.invoices:
            return []
        if TIERS.index(command.plan.tier) <= TIERS.index(state.tier):
            raise DomainError("downgrade_not_allowed", "plans can only be upgraded")
        if state.status != "active":
            raise Conflict("subscription_not_active", "only an active subscription is upgraded")
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
                ends_on=state.ends_on,
                credit=command.credit,
                charge=command.charge,
                currency=state.currency,
            )
        ]
    if isinstance(command, CheckExpiry):
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
        if days_left <= command.notice_days and state.expiring_notice_for != state.ends_on:
            return [
                SubscriptionExpiring(
                    occurred_at=command.now,
                    account_id=state.account_id,
                    subscription_id=state.subscription_id,
                    contract_number=state.contract_number,
                    ends_on=state.ends_on,
                    days_left=days_left,
                )
            ]
        return []
    raise TypeError(f"unknown command {command!r}")


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
        )
    if isinstance(event, SubscriptionRenewed):
        assert state.ends_on is not None and state.period_start is not None
        renewal_day = event.occurred_at.date()
        if state.ends_on >= renewal_day:
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
                "period_start": event.effective_on,
                "period_value": event.credit + event.charge,
                "total_paid": state.total_paid + event.charge,
                "invoices": (*state.invoices, event.invoice_id),
            }
        )
    if isinstance(event, SubscriptionExpiring):
        return state.model_copy(update={"expiring_notice_for": event.ends_on})
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


# ============================================================== account settings


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
