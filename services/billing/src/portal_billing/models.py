"""Billing's HTTP contract: typed request bodies and answers (see portal_chassis.contract).

Shared by the routes (api.py) and the use cases (handlers.py), which take these inputs and
return these answers. The answers list every key clients got before they were typed; a
key that only some rows have (a cancelled invoice's `cancelled_at`, a provider payment's
`payment_request`) stays absent rather than null when it has no value.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    create_model,
    model_serializer,
)

from portal_billing.domain import Sector
from portal_chassis.contract import FileIn, Out, Page, Strict
from portal_contracts.events.billing import OrderKind, PaymentChannel, Tier

Months = Annotated[StrictInt, Field(ge=1, le=120)]
PlanId = Annotated[str, Field(min_length=1, max_length=60)]
Reason = Annotated[str, Field(min_length=3, max_length=500)]

# --- bodies ---


class PeriodIn(Strict):
    months: Literal[1, 3, 6, 12, 24]
    discount_percent: StrictInt = Field(0, ge=0, le=99)


class PlanTermsIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    monthly_price: StrictInt = Field(gt=0, le=10_000_000_000)
    periods: list[PeriodIn] = Field(min_length=1, max_length=5)
    description: Annotated[str, Field(max_length=2000)] = ""
    trial_days: StrictInt = Field(0, ge=0, le=90)
    """Days a new customer may use the plan free, once per account (0: no trial)."""
    sectors: list[Sector] = Field(default_factory=list, max_length=6)
    """The business sectors the plan suits (suggested to accounts of those sectors)."""


class PlanIn(PlanTermsIn):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{1,30}$")]
    category: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
    tier: Tier


class OrderIn(Strict):
    plan_id: PlanId
    months: Months | None = None
    """Required, except for a trial (which buys no months)."""
    trial: StrictBool = False
    """Start the plan's free trial (once per account and plan): nothing to pay."""


class PayIn(Strict):
    method: Literal["wallet", "sandbox", "bank_transfer"] = "wallet"
    amount: StrictInt | None = Field(None, gt=0)
    """Less than what is due is a partial payment; omitted: everything due."""


class RenewIn(Strict):
    months: Months
    pay_from_wallet: StrictBool = True
    """Without `payment`: pay everything from the wallet at once, and withdraw the new
    invoice when the balance is short (false: leave the invoice to pay later)."""
    payment: PayIn | None = None
    """The payment method chosen first (wallet, bank transfer with a VietQR, or a part of
    the total): the invoice is paid that way and stays open for the rest, even when the
    wallet is short. Replaces `pay_from_wallet`."""


class AutoRenewIn(Strict):
    enabled: StrictBool
    months: Months | None = None
    """Default: the period of the purchase or the latest renewal."""


class UpgradeIn(Strict):
    plan_id: PlanId
    months: StrictInt = Field(0, ge=0, le=120)
    """Months to buy at the new plan's price after the current end date (a period the plan
    is sold for); 0: upgrade to the current end date only."""
    pay_from_wallet: StrictBool = True
    payment: PayIn | None = None
    """As for a renewal: the payment method chosen first."""
    expected_charge: StrictInt | None = Field(None, ge=0)
    """The previewed `amount_due`; if the price moved since (a day passed), the upgrade
    stops."""


class ClaimIn(Strict):
    """ "I paid but got no confirmation": the transfer's reference, optionally a proof file
    (a PNG or JPEG image or a PDF of at most 10 MB, checked on its bytes)."""

    reference: Annotated[str, Field(min_length=3, max_length=100)]
    amount: StrictInt = Field(gt=0)
    paid_on: date | None = None
    proof: FileIn | None = None


class RejectIn(Strict):
    reason: Reason


class RefundIn(Strict):
    amount: StrictInt = Field(gt=0)
    reason: Reason


class SettingsIn(Strict):
    """What is sent changes; what is left out stays."""

    auto_pay: StrictBool | None = None
    sector: Sector | None = None
    """The account's business sector (the store profile's "ngành hàng")."""


# --- answers ---


class _OmitWhenNone(Out):
    """Leaves out the listed optional keys when they have no value (as the API always did)."""

    omit_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if not (k in self.omit_when_none and v is None)}


class PeriodOut(Out):
    months: int
    discount_percent: int
    price: int
    """The price of the whole period, discount applied."""


class PlanOut(Out):
    plan_id: str
    code: str
    name: str
    category: str
    tier: Tier
    status: Literal["active", "retired"]
    monthly_price: int
    currency: str
    description: str
    periods: list[PeriodOut]
    trial_days: int = 0
    """Days of the free trial a new customer may start (0: none)."""
    sectors: list[Sector] = []
    """The business sectors the plan suits."""


class PlanRowOut(PlanOut):
    """A plan in the price list (`id` is its plan id)."""

    id: str


class PlansOut(Out):
    items: list[PlanRowOut]
    total: int


class InvoiceLineOut(Out):
    description: str
    amount: int
    """Negative for credits (e.g. the unused value of the plan being upgraded)."""


class PaymentStartedOut(Out):
    """A payment waiting for the wallet's answer (finished by billing, never lost)."""

    payment_id: str
    channel: PaymentChannel
    amount: int
    started_at: datetime


class InvoicePaymentOut(Out):
    payment_id: str
    channel: PaymentChannel
    amount: int
    applied: int
    excess_to_wallet: int
    reference: str
    at: datetime


class InvoiceRowOut(_OmitWhenNone):
    """An invoice in the lists; the cancellation keys only once it is cancelled."""

    omit_when_none = frozenset({"cancelled_at", "cancel_reason", "refunded_to_wallet"})

    id: str
    account_id: str
    proforma_number: str
    invoice_number: str | None
    order_id: str
    order_kind: OrderKind
    subscription_id: str
    plan_id: str
    plan_name: str
    category: str
    tier: Tier
    months: int
    lines: list[InvoiceLineOut]
    total: int
    paid: int
    amount_due: int
    currency: str
    status: Literal["unpaid", "partially_paid", "paid", "cancelled"]
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None
    payments: list[InvoicePaymentOut]
    refunded: int = 0
    upgrade_credit: int = 0
    payments_in_progress: list[PaymentStartedOut] = Field(default_factory=list)
    payment_in_progress_since: datetime | None = None
    cancelled_at: datetime | None = Field(None, description="Only on a cancelled invoice")
    cancel_reason: Literal["customer_stopped", "payment_rejected", "staff", "superseded"] | None = (
        Field(None, description="Only on a cancelled invoice")
    )
    refunded_to_wallet: int | None = Field(None, description="Only on a cancelled invoice")


class ClaimOut(Out):
    """A payment claim ("I paid by transfer"), as the customer and billing staff see it."""

    id: str
    claim_id: str
    invoice_id: str
    account_id: str
    invoice_proforma: str | None
    reference: str
    amount: int
    currency: str
    paid_on: date | None
    proof_file_id: str | None
    status: Literal["under_review", "approved", "rejected"]
    filed_at: datetime
    review_due_at: datetime
    decided_at: datetime | None
    reviewer: str | None
    rejection_reason: str | None
    overdue: bool
    section: Literal["documents_under_review", "rejected_payments", "approved_payments"]


class TransferOut(_OmitWhenNone):
    """How to pay a provider payment (the wallet's top-up instructions)."""

    omit_when_none = frozenset({"qr_payload"})

    provider: str
    reference: str = Field(description="The transfer memo the customer uses")
    expires_at: datetime
    qr_payload: str | None = Field(default=None, description="VietQR (EMVCo), bank transfer")


class PaymentRequestOut(Out):
    top_up_id: str
    status: str | None
    amount: int | None
    currency: str | None
    payment: TransferOut | None


class InvoiceOut(InvoiceRowOut):
    """An invoice with its claims; `payment_request` only right after a provider payment
    was asked for (it says how to pay)."""

    omit_when_none = InvoiceRowOut.omit_when_none | {"payment_request"}

    claims: list[ClaimOut]
    payment_request: PaymentRequestOut | None = Field(
        None, description="Only in the answer to a sandbox or bank-transfer payment"
    )


class SubscriptionOut(_OmitWhenNone):
    omit_when_none = frozenset({"days_left"})

    id: str
    account_id: str
    contract_number: str
    status: Literal["active", "expired"]
    plan_id: str
    plan_code: str
    plan_name: str
    category: str
    tier: Tier
    currency: str
    starts_on: date | None
    ends_on: date | None
    amount: int
    current_period_value: int
    invoices: list[str]
    auto_renew: bool
    auto_renew_months: int | None
    days_left: int | None = Field(None, description="Days until the end date (business day)")
    on_trial: bool = False
    """The current term is a free trial ending on `ends_on`; renewing starts the paid term."""


class TermEntryOut(Out):
    event: Literal["started", "renewed"]
    at: datetime
    ends_on: date
    amount: int
    months: int


class UpgradeEntryOut(Out):
    event: Literal["upgraded"]
    at: datetime
    from_tier: Tier
    to_tier: Tier
    credit: int
    charge: int
    months: int = 0
    """Months bought with the upgrade."""
    extension: int = 0
    ends_on: date | None = None


class ExpiringEntryOut(Out):
    event: Literal["expiring"]
    at: datetime
    days_left: int


class ExpiredEntryOut(Out):
    event: Literal["expired"]
    at: datetime


ContractEntryOut = Annotated[
    TermEntryOut | UpgradeEntryOut | ExpiringEntryOut | ExpiredEntryOut,
    Field(discriminator="event"),
]


class ContractOut(SubscriptionOut):
    """A subscription as a contract: its terms and what happened to it, oldest first."""

    history: list[ContractEntryOut]


class PlanRefOut(Out):
    plan_id: str
    tier: Tier
    name: str


# `from` is a Python keyword but is the key of the answer; a field alias would not do
# (answers are dumped by field name), so the field is declared by name.
_from_field: dict[str, Any] = {"from": (PlanRefOut, ...)}
_WithFrom = create_model("_WithFrom", __base__=Out, **_from_field)


class UpgradePreviewOut(_WithFrom):  # type: ignore[misc,valid-type]
    """What an upgrade costs today: the unused value of the current plan is credited."""

    subscription_id: str
    to: PlanRefOut
    effective_on: date
    ends_on: date | None
    remaining_days: int
    period_days: int
    credit: int
    charge: int
    """The pro-rata difference to the current end date."""
    months: int = 0
    """Months bought at the new plan's price after the current end date."""
    extension: int = 0
    """What those months cost (the plan's period price)."""
    new_ends_on: date | None = None
    """The end date after the upgrade."""
    amount_due: int
    """`charge` + `extension`: the one invoice's total."""
    currency: str
    rounding: str


class SettingsOut(Out):
    auto_pay: bool
    sector: Sector | None = None
    """None until the account chooses one."""


class CodeOut(Out):
    code: str
    kind: Literal["order", "invoice", "contract"]
    account_id: str


class ExpiryCheckOut(Out):
    changed: int
    """How many subscriptions got a notice or expired."""


Provisioning = Literal["awaiting_payment", "in_progress", "done", "cancelled", "failed"]


class OrderRowOut(Out):
    """An order with its service setup (the hosting portal's "Thông tin cài đặt dịch vụ")."""

    order_id: str
    """The order code (OD-...)."""
    invoice_id: str
    kind: OrderKind
    content: str
    """What was ordered: the invoice's first line (plan, months or trial)."""
    plan_name: str
    placed_at: datetime
    provisioning: Provisioning
    """awaiting_payment until paid; in_progress while the service is being set up; done once
    the subscription runs it; cancelled; failed (paid but not applicable, refunded)."""
    subscription_id: str


InvoicesPage = Page[InvoiceRowOut]
OrdersPage = Page[OrderRowOut]
SubscriptionsPage = Page[SubscriptionOut]
ClaimsPage = Page[ClaimOut]
