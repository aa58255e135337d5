"""Events of the billing context (topic `billing.events`).

Streams: `plan-<id>` (the catalogue), `invoice-<id>` (an order's invoice, its payments
and payment claims) and `subscription-<id>` (the contract). Amounts are integers in the
currency's minor unit (VND has none).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from portal_contracts.base import CurrencyCode, DomainEvent

Tier = Literal["support", "professional", "premium"]
OrderKind = Literal["new", "renewal", "upgrade"]
PaymentChannel = Literal["wallet", "provider", "claim"]


class BillingEvent(DomainEvent):
    context: ClassVar[str] = "billing"
    account_id: str
    """The customer account; catalogue events carry `platform`."""


# --- the plan catalogue ---


class PeriodPrice(BaseModel):
    model_config = ConfigDict(frozen=True)
    months: int
    discount_percent: int = 0


class PlanPublished(BillingEvent):
    event_type: ClassVar[str] = "PlanPublished"
    plan_id: str
    code: str
    name: str
    category: str
    tier: Tier
    monthly_price: int
    currency: CurrencyCode
    periods: list[PeriodPrice]
    description: str = ""
    trial_days: int = 0
    """Days a new customer may use the plan free, once per account (0: no trial)."""
    sectors: list[str] = []
    """The business sectors the plan suits (suggested to accounts of those sectors)."""


class PlanChanged(BillingEvent):
    """New terms for future orders; running subscriptions keep what they paid."""

    event_type: ClassVar[str] = "PlanChanged"
    plan_id: str
    name: str
    monthly_price: int
    periods: list[PeriodPrice]
    description: str = ""
    trial_days: int = 0
    """The trial offered from now on (0: none); trials already started keep theirs."""
    sectors: list[str] = []
    """The business sectors the plan suits from now on."""


class PlanRetired(BillingEvent):
    event_type: ClassVar[str] = "PlanRetired"
    plan_id: str


# --- invoices (an order is the invoice's purpose) ---


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    description: str
    amount: int
    """Negative for credits (e.g. the unused value of the plan being upgraded)."""


class InvoiceIssued(BillingEvent):
    """An order was placed; its proforma invoice awaits payment."""

    event_type: ClassVar[str] = "InvoiceIssued"
    invoice_id: str
    proforma_number: str
    order_id: str
    order_kind: OrderKind
    subscription_id: str
    plan_id: str
    plan_code: str
    plan_name: str
    category: str
    tier: Tier
    months: int
    lines: list[InvoiceLine]
    total: int = Field(ge=0)
    currency: CurrencyCode
    due_at: datetime
    upgrade_from_plan_id: str | None = None
    upgrade_credit: int = 0
    """The unused value of the current plan, already deducted from `total`."""
    upgrade_extension: int = 0
    """Of `total`, what buys `months` more at the new plan's price (an upgrade that also
    extends); the rest is the pro-rata difference to the current end date."""
    trial_days: int = 0
    """A trial order (`order_kind` new, `total` 0, `months` 0): the plan free for this many
    days."""


class InvoicePaymentStarted(BillingEvent):
    """A wallet payment of the invoice began: the wallet is debited next under `payment_id`.

    Written before the wallet is called, so a timeout or a crash after the debit leaves a
    trace that billing completes (or abandons) with the same debit key; until then the
    amount is reserved and a second payment cannot take it again.
    """

    event_type: ClassVar[str] = "InvoicePaymentStarted"
    invoice_id: str
    payment_id: str
    """Also the wallet debit's idempotency key."""
    channel: PaymentChannel
    amount: int = Field(gt=0)
    currency: CurrencyCode
    reference: str
    kept_in_wallet: int = 0
    """Provider payments: what arrived beyond the amount taken (it stays in the wallet)."""


class InvoicePaymentAbandoned(BillingEvent):
    """The wallet refused the started payment's debit: nothing was taken, nothing applied."""

    event_type: ClassVar[str] = "InvoicePaymentAbandoned"
    invoice_id: str
    payment_id: str
    reason: str
    """The wallet's refusal code, e.g. `insufficient_balance`."""


class InvoicePaymentRecorded(BillingEvent):
    """Money was applied to the invoice; `excess` went to the customer's wallet."""

    event_type: ClassVar[str] = "InvoicePaymentRecorded"
    invoice_id: str
    payment_id: str
    channel: PaymentChannel
    amount: int = Field(gt=0)
    applied: int
    """The part that went to the invoice."""
    excess: int = 0
    """Paid beyond what was due; it ends up in the customer's wallet."""
    credited_to_wallet: int = 0
    """The part of `excess` billing has to credit back (the rest never left the wallet)."""
    amount_due_after: int
    currency: CurrencyCode
    reference: str


class InvoicePaid(BillingEvent):
    """Paid in full: the proforma became an invoice with its own number.

    `amount_spent` is what the customer spent on it (for loyalty).
    """

    event_type: ClassVar[str] = "InvoicePaid"
    invoice_id: str
    invoice_number: str
    order_id: str
    order_kind: OrderKind
    subscription_id: str
    amount_spent: int
    currency: CurrencyCode


class InvoiceCancelled(BillingEvent):
    """The order was stopped; whatever had been paid was credited to the wallet."""

    event_type: ClassVar[str] = "InvoiceCancelled"
    invoice_id: str
    order_id: str
    reason: Literal["customer_stopped", "payment_rejected", "staff", "superseded"]
    refunded_to_wallet: int = 0
    currency: CurrencyCode


class InvoiceRefunded(BillingEvent):
    """Staff refunded (part of) a paid invoice to the wallet; loyalty reverses it."""

    event_type: ClassVar[str] = "InvoiceRefunded"
    invoice_id: str
    refund_id: str
    invoice_number: str
    amount: int = Field(gt=0)
    currency: CurrencyCode
    reason: str


class PaymentClaimFiled(BillingEvent):
    """ "I paid but got no confirmation": a document under review."""

    event_type: ClassVar[str] = "PaymentClaimFiled"
    invoice_id: str
    claim_id: str
    reference: str
    amount: int = Field(gt=0)
    currency: CurrencyCode
    paid_on: date | None = None
    proof_file_id: str | None = None
    review_due_at: datetime


class PaymentClaimApproved(BillingEvent):
    event_type: ClassVar[str] = "PaymentClaimApproved"
    invoice_id: str
    claim_id: str
    reviewer: str


class PaymentClaimRejected(BillingEvent):
    event_type: ClassVar[str] = "PaymentClaimRejected"
    invoice_id: str
    claim_id: str
    reviewer: str
    reason: str


# --- subscriptions (contracts) ---


class SubscriptionStarted(BillingEvent):
    event_type: ClassVar[str] = "SubscriptionStarted"
    subscription_id: str
    contract_number: str
    invoice_id: str
    plan_id: str
    plan_code: str
    plan_name: str
    category: str
    tier: Tier
    months: int
    starts_on: date
    ends_on: date
    amount: int
    currency: CurrencyCode
    monthly_price: int = 0
    """The plan's list price per month when bought (the base of upgrade proration)."""
    trial_days: int = 0
    """Started on trial (`months` 0, `amount` 0): `ends_on` ends the trial; a renewal starts
    the paid term from the renewal day."""


class SubscriptionRenewed(BillingEvent):
    """Extended from the previous end date, never from the renewal day."""

    event_type: ClassVar[str] = "SubscriptionRenewed"
    subscription_id: str
    invoice_id: str
    months: int
    previous_ends_on: date
    ends_on: date
    amount: int
    currency: CurrencyCode
    from_trial: bool = False
    """Renewed from a trial: the paid term runs from the renewal day, not the trial's end."""


class PlanUpgraded(BillingEvent):
    """Effective at once; the unused value was credited pro rata. The end date stays, or
    moves `months` later when the upgrade also bought them (for `extension`)."""

    event_type: ClassVar[str] = "PlanUpgraded"
    subscription_id: str
    invoice_id: str
    from_plan_id: str
    from_tier: Tier
    to_plan_id: str
    to_plan_code: str
    to_plan_name: str
    to_tier: Tier
    to_monthly_price: int = 0
    effective_on: date
    ends_on: date
    credit: int
    charge: int
    currency: CurrencyCode
    months: int = 0
    """Months bought with the upgrade, added to the previous end date."""
    extension: int = 0
    """What those months cost at the new plan's price (paid beside `charge`)."""


class SubscriptionExpiring(BillingEvent):
    event_type: ClassVar[str] = "SubscriptionExpiring"
    subscription_id: str
    contract_number: str
    ends_on: date
    days_left: int
    notice_days: int | None = None
    """Which notice of the term this is (15, 7 or 1 days before the end); each is given
    once per term. None: from before there was more than one."""


class SubscriptionExpired(BillingEvent):
    event_type: ClassVar[str] = "SubscriptionExpired"
    subscription_id: str
    contract_number: str
    ends_on: date


class AutoRenewChanged(BillingEvent):
    """A subscription's automatic renewal: on (for `months`) or off (`months` None).

    When on, billing issues the renewal invoice when the expiry notice is due; with the
    account's auto-pay it is paid from the balance at once.
    """

    event_type: ClassVar[str] = "AutoRenewChanged"
    subscription_id: str
    months: int | None
    actor: str = ""


class AutoPaySettingChanged(BillingEvent):
    """The account's "apply my balance to new invoices automatically" setting."""

    event_type: ClassVar[str] = "AutoPaySettingChanged"
    enabled: bool
    actor: str = ""


class TrialClaimed(BillingEvent):
    """The account used its one trial of the plan (stream `billing-account-<id>`)."""

    event_type: ClassVar[str] = "TrialClaimed"
    plan_id: str
    invoice_id: str
    """The trial order's invoice."""
    trial_days: int


class BusinessSectorChanged(BillingEvent):
    """The account's business sector (stream `billing-account-<id>`): retail, food_beverage,
    fashion, services, hosting or it_repair; plans suited to it are suggested first."""

    event_type: ClassVar[str] = "BusinessSectorChanged"
    sector: str
    actor: str = ""


CatalogueEvent = PlanPublished | PlanChanged | PlanRetired
