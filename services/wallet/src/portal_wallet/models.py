"""The wallet's HTTP contract: typed request bodies and answers (see portal_chassis.contract).

The answers list every key clients get today; a key that is only sometimes present (the
QR payload, a webhook's hold id) stays absent rather than null when it has no value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from portal_chassis.contract import Out, Page, Strict
from portal_contracts.base import CurrencyCode
from portal_contracts.events.wallet import CreditReason, DebitReason, HoldReason, PaymentMethod
from portal_wallet.payments import MAX_PAYMENT_AMOUNT

# --- requests ---


class TopUpIn(Strict):
    amount: int = Field(gt=0, description="Minor units of the currency (VND has none)")
    currency: CurrencyCode = "VND"
    method: PaymentMethod = "sandbox"


class MoneyMovementIn(Strict):
    amount: int = Field(gt=0, le=MAX_PAYMENT_AMOUNT)
    currency: CurrencyCode
    reference: str = Field(min_length=1, max_length=200)


class CreditIn(MoneyMovementIn):
    reason: CreditReason


class DebitIn(MoneyMovementIn):
    reason: DebitReason


# --- answers ---


class _OmitWhenNone(Out):
    """Leaves out the listed optional keys when they have no value (as the API always did)."""

    omit_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if not (k in self.omit_when_none and v is None)}


class PaymentOut(_OmitWhenNone):
    omit_when_none = frozenset({"qr_payload"})

    provider: str
    reference: str = Field(description="The transfer memo the customer uses")
    expires_at: datetime
    qr_payload: str | None = Field(default=None, description="Only on a single top-up")


class TopUpOut(Out):
    id: str
    status: Literal["pending", "completed", "failed", "held"]
    amount: int
    currency: str
    method: str
    amount_received: int
    failure_reason: str | None
    created_at: datetime
    completed_at: datetime | None
    payment: PaymentOut


class LimitsOut(Out):
    min_top_up: int
    max_top_up: int
    max_balance: int


class WalletOut(Out):
    account_id: str
    currency: str
    balance: int
    held: int
    held_payments: int
    total_topped_up: int
    pending_top_ups: int
    version: int
    limits: LimitsOut


class BalanceAtOut(Out):
    account_id: str
    at: datetime
    balance: int
    currency: str
    version: int


class MoneyRowOut(Out):
    """A credit or debit in the history; `reference` of a top-up is its transfer memo."""

    id: str = Field(description="The transaction id (the same on the dashboard)")
    kind: Literal["credit", "debit"]
    amount: int
    currency: str
    balance_after: int
    reason: str
    reference: str
    occurred_at: datetime
    stream_version: int


class HeldRowOut(Out):
    """A payment held for review, in the customer's history (keyed by the hold id)."""

    id: str
    kind: Literal["held"]
    status: Literal["held", "released", "refund"]
    amount: int
    currency: str
    balance_after: int
    reason: str
    reference: str
    occurred_at: datetime
    stream_version: int
    top_up_id: str
    payment_reference: str
    provider_event_id: str
    amount_requested: int
    hold_reason: HoldReason
    held_at: datetime
    settled_by: str | None
    settled_at: datetime | None


TransactionOut = Annotated[MoneyRowOut | HeldRowOut, Field(discriminator="kind")]


class TransactionsPage(Page[TransactionOut]):
    """One page of the history, newest first: credits, debits and held payments."""


class HoldOut(Out):
    """A held payment as staff see it."""

    id: str
    account_id: str
    top_up_id: str
    payment_reference: str
    provider_event_id: str
    amount: int
    amount_requested: int
    currency: str
    hold_reason: HoldReason
    status: Literal["held", "released", "refund"]
    held_at: datetime
    settled_by: str | None
    settled_at: datetime | None


class MoneyResultOut(Out):
    transaction_id: str
    kind: Literal["credit", "debit"]
    amount: int
    currency: str
    balance_after: int
    reason: str
    reference: str
    occurred_at: datetime
    replayed: bool


class WebhookOut(_OmitWhenNone):
    omit_when_none = frozenset({"hold_id"})

    status: Literal["processed", "duplicate", "held"]
    event_id: str
    hold_id: str | None = Field(default=None, description="Only when the payment was held")
