"""Events of the wallet context (topic `wallet.events`, key = wallet stream id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from portal_contracts.base import CurrencyCode, DomainEvent

PaymentMethod = Literal["sandbox", "bank_transfer"]
CreditReason = Literal["top_up", "refund", "overpayment", "adjustment", "order_cancelled"]
DebitReason = Literal["invoice_payment", "adjustment", "purchase"]
HoldReason = Literal["over_tolerance", "balance_limit", "repeat_payment"]
"""Why a payment was held: more than the tolerance above the amount asked for; it would
take the balance past the wallet's limit; another payment on an already paid reference."""


class WalletEvent(DomainEvent):
    context: ClassVar[str] = "wallet"
    account_id: str


class WalletOpened(WalletEvent):
    event_type: ClassVar[str] = "WalletOpened"
    currency: CurrencyCode


class TopUpRequested(WalletEvent):
    """A customer asked to add funds; the payment is awaited from the provider."""

    event_type: ClassVar[str] = "TopUpRequested"
    top_up_id: str
    amount: int = Field(gt=0)
    currency: CurrencyCode
    method: PaymentMethod
    provider: str
    reference: str
    """What the provider quotes back in its webhook (for bank transfers: the memo)."""
    expires_at: datetime


class TopUpCompleted(WalletEvent):
    """The provider confirmed the payment; `amount_received` is what arrived.

    Also recorded when staff release a held payment (with the provider's event id), so
    consumers see the credited payment exactly as if it had not been held.
    """

    event_type: ClassVar[str] = "TopUpCompleted"
    top_up_id: str
    provider: str
    reference: str
    provider_event_id: str
    amount_requested: int
    amount_received: int = Field(gt=0)
    currency: CurrencyCode
    late: bool = False
    """True when the payment arrived after the top-up had expired or failed."""


class TopUpFailed(WalletEvent):
    event_type: ClassVar[str] = "TopUpFailed"
    top_up_id: str
    reason: Literal["payment_failed", "expired"]
    provider_event_id: str | None = None


class WalletCredited(WalletEvent):
    event_type: ClassVar[str] = "WalletCredited"
    transaction_id: str
    amount: int = Field(gt=0)
    currency: CurrencyCode
    balance_after: int
    reason: CreditReason
    reference: str
    """What the credit is for: a top-up id, an invoice number, an order id..."""


class WalletDebited(WalletEvent):
    event_type: ClassVar[str] = "WalletDebited"
    transaction_id: str
    amount: int = Field(gt=0)
    currency: CurrencyCode
    balance_after: int
    reason: DebitReason
    reference: str


class DebitRejected(WalletEvent):
    """A debit asked for more than the balance; nothing was taken."""

    event_type: ClassVar[str] = "DebitRejected"
    transaction_id: str
    amount: int
    currency: CurrencyCode
    balance: int
    reason: Literal["insufficient_balance", "currency_mismatch"]
    reference: str


class TopUpHeldForReview(WalletEvent):
    """A confirmed payment that was kept aside for staff review instead of credited.

    The money is the customer's and is shown as held; nothing was added to the balance.
    Staff either release it (HeldCreditReleased) or mark it for refund to the payer
    (HeldCreditMarkedForRefund), once.
    """

    event_type: ClassVar[str] = "TopUpHeldForReview"
    hold_id: str
    top_up_id: str
    provider: str
    reference: str
    provider_event_id: str
    amount_requested: int
    amount_received: int = Field(gt=0)
    currency: CurrencyCode
    reason: HoldReason
    balance: int
    """The balance when the payment was held (unchanged by it)."""
    late: bool = False


class HeldCreditReleased(WalletEvent):
    """Staff released a held payment: it is credited (TopUpCompleted + WalletCredited)."""

    event_type: ClassVar[str] = "HeldCreditReleased"
    hold_id: str
    top_up_id: str
    amount: int = Field(gt=0)
    currency: CurrencyCode
    transaction_id: str
    """The WalletCredited transaction recorded with this release."""
    released_by: str


class HeldCreditMarkedForRefund(WalletEvent):
    """Staff decided a held payment goes back to the payer; it is never credited."""

    event_type: ClassVar[str] = "HeldCreditMarkedForRefund"
    hold_id: str
    top_up_id: str
    amount: int = Field(gt=0)
    currency: CurrencyCode
    marked_by: str
