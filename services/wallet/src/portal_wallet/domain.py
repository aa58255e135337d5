"""The wallet aggregate: one stream per customer account (`wallet-<account id>`).

Pure code: no I/O, no clock, no id generation. Time, ids and limits come in with the
command. Top-ups live inside the wallet stream so that a confirmed payment and the
credit it causes are appended in one commit: money can never be half-booked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.wallet import (
    CreditReason,
    DebitReason,
    DebitRejected,
    HeldCreditMarkedForRefund,
    HeldCreditReleased,
    HoldReason,
    PaymentMethod,
    TopUpCompleted,
    TopUpFailed,
    TopUpHeldForReview,
    TopUpRequested,
    WalletCredited,
    WalletDebited,
    WalletEvent,
    WalletOpened,
)


def stream_id(account_id: str) -> str:
    return f"wallet-{account_id}"


# --- commands (imperative) ---


@dataclass(frozen=True)
class TopUpLimits:
    min_amount: int
    max_amount: int
    max_balance: int


@dataclass(frozen=True)
class PaymentPolicy:
    """When a confirmed payment is held for staff review instead of credited."""

    max_balance: int
    overpayment_tolerance_percent: int
    """A payment more than this many percent above the amount asked for is held."""


@dataclass(frozen=True)
class WalletCommand:
    account_id: str
    now: datetime
    opening_currency: str
    """The currency a wallet opened by this command gets (configuration, passed in)."""


@dataclass(frozen=True)
class RequestTopUp(WalletCommand):
    top_up_id: str
    amount: int
    currency: str
    method: PaymentMethod
    provider: str
    reference: str
    expires_at: datetime
    limits: TopUpLimits
    open_if_missing: bool = False
    """The caller's signed token proves the account exists: open its wallet now if
    AccountRegistered has not arrived yet (that reaction is then a no-op)."""


@dataclass(frozen=True)
class RecordPaymentSucceeded(WalletCommand):
    top_up_id: str
    provider_event_id: str
    amount: int
    currency: str
    transaction_id: str
    hold_id: str
    """Used only when the payment is held for review."""
    policy: PaymentPolicy


@dataclass(frozen=True)
class RecordPaymentFailed(WalletCommand):
    top_up_id: str
    provider_event_id: str


@dataclass(frozen=True)
class ExpireTopUps(WalletCommand):
    pass


@dataclass(frozen=True)
class OpenAccountWallet(WalletCommand):
    """Open the wallet of a newly registered account (currency = opening_currency)."""


@dataclass(frozen=True)
class CreditWallet(WalletCommand):
    transaction_id: str
    amount: int
    currency: str
    reason: CreditReason
    reference: str


@dataclass(frozen=True)
class DebitWallet(WalletCommand):
    transaction_id: str
    amount: int
    currency: str
    reason: DebitReason
    reference: str


@dataclass(frozen=True)
class ReleaseHeldCredit(WalletCommand):
    """Staff: credit a held payment to the balance (once)."""

    hold_id: str
    transaction_id: str
    staff: str
    max_balance: int


@dataclass(frozen=True)
class MarkHeldCreditForRefund(WalletCommand):
    """Staff: a held payment goes back to the payer, never to the balance (once)."""

    hold_id: str
    staff: str


Command = (
    OpenAccountWallet
    | RequestTopUp
    | RecordPaymentSucceeded
    | RecordPaymentFailed
    | ExpireTopUps
    | CreditWallet
    | DebitWallet
    | ReleaseHeldCredit
    | MarkHeldCreditForRefund
)


# --- state (a small tagged union) ---


class TopUp(BaseModel):
    model_config = ConfigDict(frozen=True)

    top_up_id: str
    amount: int
    currency: str
    method: PaymentMethod
    provider: str
    reference: str
    requested_at: datetime
    expires_at: datetime
    status: Literal["pending", "completed", "failed", "held"] = "pending"
    """`held`: its payment awaits staff review (nothing credited yet)."""
    failure_reason: str | None = None
    amount_received: int = 0
    completed_at: datetime | None = None


class HeldCredit(BaseModel):
    """A confirmed payment kept out of the balance until staff decide."""

    model_config = ConfigDict(frozen=True)

    hold_id: str
    top_up_id: str
    provider_event_id: str
    amount: int
    currency: str
    reason: HoldReason
    late: bool
    held_at: datetime
    status: Literal["held", "released", "refund"] = "held"
    settled_by: str | None = None
    settled_at: datetime | None = None


class NoWallet(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["none"] = "none"


class OpenWallet(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["open"] = "open"
    account_id: str
    currency: str
    balance: int = 0
    total_topped_up: int = 0
    total_credited: int = 0
    total_debited: int = 0
    top_ups: dict[str, TopUp] = Field(default_factory=dict)
    holds: dict[str, HeldCredit] = Field(default_factory=dict)

    @property
    def held(self) -> int:
        """Money that arrived and awaits staff review (not in the balance)."""
        return sum(h.amount for h in self.holds.values() if h.status == "held")


WalletState = Annotated[NoWallet | OpenWallet, Field(discriminator="kind")]


class _StateBox(BaseModel):
    state: WalletState


# --- decide ---


def _opened(
    cmd: WalletCommand, state: NoWallet | OpenWallet, *, open_if_missing: bool = False
) -> tuple[OpenWallet, list[WalletEvent]]:
    # Wallets open when identity registers the account (AccountRegistered), or on the
    # account's first use when its signed token already proves the account exists.
    if isinstance(state, OpenWallet):
        return state, []
    if open_if_missing:
        opened = WalletOpened(
            account_id=cmd.account_id, currency=cmd.opening_currency, occurred_at=cmd.now
        )
        wallet = evolve(state, opened)
        assert isinstance(wallet, OpenWallet)
        return wallet, [opened]
    raise NotFound("wallet_not_found", "this account has no wallet yet")


def _check_currency(wallet: OpenWallet, currency: str) -> None:
    if currency != wallet.currency:
        raise DomainError(
            "currency_not_supported",
            f"this wallet holds {wallet.currency}, not {currency}",
            currency=wallet.currency,
        )


def decide(cmd: Command, state: NoWallet | OpenWallet) -> Sequence[WalletEvent]:
    match cmd:
        case OpenAccountWallet():
            if isinstance(state, OpenWallet):
                return []
            return [
                WalletOpened(
                    account_id=cmd.account_id, currency=cmd.opening_currency, occurred_at=cmd.now
                )
            ]
        case RequestTopUp():
            return _request_top_up(cmd, state)
        case RecordPaymentSucceeded():
            return _payment_succeeded(cmd, state)
        case RecordPaymentFailed():
            return _payment_failed(cmd, state)
        case ExpireTopUps():
            return _expire(cmd, state)
        case CreditWallet():
            return _credit(cmd, state)
        case DebitWallet():
            return _debit(cmd, state)
        case ReleaseHeldCredit():
            return _release(cmd, state)
        case MarkHeldCreditForRefund():
            return _mark_for_refund(cmd, state)
    raise TypeError(f"unknown command {cmd!r}")


def _request_top_up(cmd: RequestTopUp, state: NoWallet | OpenWallet) -> list[WalletEvent]:
    if isinstance(state, OpenWallet) and cmd.top_up_id in state.top_ups:
        return []
    limits = cmd.limits
    if cmd.amount <= 0:
        raise DomainError("amount_not_positive", "the amount must be greater than zero")
    if cmd.amount < limits.min_amount:
        raise DomainError(
            "amount_below_minimum",
            f"the smallest top-up is {limits.min_amount}",
            min_amount=limits.min_amount,
        )
    if cmd.amount > limits.max_amount:
        raise DomainError(
            "amount_above_maximum",
            f"the largest top-up is {limits.max_amount}",
            max_amount=limits.max_amount,
        )
    wallet, events = _opened(cmd, state, open_if_missing=cmd.open_if_missing)
    _check_currency(wallet, cmd.currency)
    pending = sum(t.amount for t in wallet.top_ups.values() if t.status == "pending")
    if wallet.balance + pending + cmd.amount > limits.max_balance:
        raise DomainError(
            "balance_limit_exceeded",
            f"the balance may not exceed {limits.max_balance}",
            max_balance=limits.max_balance,
            balance=wallet.balance,
            pending=pending,
        )
    events.append(
        TopUpRequested(
            account_id=cmd.account_id,
            top_up_id=cmd.top_up_id,
            amount=cmd.amount,
            currency=cmd.currency,
            method=cmd.method,
            provider=cmd.provider,
            reference=cmd.reference,
            expires_at=cmd.expires_at,
            occurred_at=cmd.now,
        )
    )
    return events


def _top_up(state: NoWallet | OpenWallet, top_up_id: str) -> tuple[OpenWallet, TopUp]:
    if isinstance(state, OpenWallet) and top_up_id in state.top_ups:
        return state, state.top_ups[top_up_id]
    raise NotFound("unknown_reference", "no top-up has this payment reference")


def _payment_succeeded(
    cmd: RecordPaymentSucceeded, state: NoWallet | OpenWallet
) -> list[WalletEvent]:
    wallet, top_up = _top_up(state, cmd.top_up_id)
    if cmd.amount <= 0:
        raise DomainError("amount_not_positive", "a payment must carry a positive amount")
    if cmd.currency != top_up.currency:
        raise DomainError("currency_mismatch", f"the top-up was requested in {top_up.currency}")
    # Money that arrived is never refused or lost: it is credited, or held for review
    # when it is suspicious (and then shown as held until staff decide).
    late = top_up.status != "pending" or cmd.now > top_up.expires_at
    reason = _hold_reason(cmd, wallet, top_up)
    if reason is not None:
        return [
            TopUpHeldForReview(
                account_id=cmd.account_id,
                hold_id=cmd.hold_id,
                top_up_id=top_up.top_up_id,
                provider=top_up.provider,
                reference=top_up.reference,
                provider_event_id=cmd.provider_event_id,
                amount_requested=top_up.amount,
                amount_received=cmd.amount,
                currency=cmd.currency,
                reason=reason,
                balance=wallet.balance,
                late=late,
                occurred_at=cmd.now,
            )
        ]
    completed = TopUpCompleted(
        account_id=cmd.account_id,
        top_up_id=top_up.top_up_id,
        provider=top_up.provider,
        reference=top_up.reference,
        provider_event_id=cmd.provider_event_id,
        amount_requested=top_up.amount,
        amount_received=cmd.amount,
        currency=cmd.currency,
        late=late,
        occurred_at=cmd.now,
    )
    credited = WalletCredited(
        account_id=cmd.account_id,
        transaction_id=cmd.transaction_id,
        amount=cmd.amount,
        currency=cmd.currency,
        balance_after=wallet.balance + cmd.amount,
        reason="top_up",
        # The history shows what the customer typed on the transfer: the payment memo.
        reference=top_up.reference,
        occurred_at=cmd.now,
    )
    return [completed, credited]


def _hold_reason(
    cmd: RecordPaymentSucceeded, wallet: OpenWallet, top_up: TopUp
) -> HoldReason | None:
    if top_up.status in ("completed", "held"):
        return "repeat_payment"  # a second provider event on an already paid reference
    policy = cmd.policy
    # Integer arithmetic: amount > requested * (100 + tolerance) / 100. Under-payment is
    # credited as it arrived (the customer simply topped up less).
    if cmd.amount * 100 > top_up.amount * (100 + policy.overpayment_tolerance_percent):
        return "over_tolerance"
    if wallet.balance + cmd.amount > policy.max_balance:
        return "balance_limit"
    return None


def _hold(state: NoWallet | OpenWallet, hold_id: str) -> tuple[OpenWallet, HeldCredit]:
    if isinstance(state, OpenWallet) and hold_id in state.holds:
        return state, state.holds[hold_id]
    raise NotFound("hold_not_found", "no held payment has this id")


def _release(cmd: ReleaseHeldCredit, state: NoWallet | OpenWallet) -> list[WalletEvent]:
    wallet, hold = _hold(state, cmd.hold_id)
    if hold.status == "released":
        return []  # released already: a retry or a concurrent release changes nothing
    if hold.status == "refund":
        raise Conflict(
            "hold_already_settled", "this payment was marked for refund", status=hold.status
        )
    if wallet.balance + hold.amount > cmd.max_balance:
        raise Conflict(
            "balance_limit_exceeded",
            f"releasing it would take the balance past {cmd.max_balance}; refund it instead",
            max_balance=cmd.max_balance,
            balance=wallet.balance,
            amount=hold.amount,
        )
    top_up = wallet.top_ups[hold.top_up_id]
    return [
        HeldCreditReleased(
            account_id=cmd.account_id,
            hold_id=hold.hold_id,
            top_up_id=hold.top_up_id,
            amount=hold.amount,
            currency=hold.currency,
            transaction_id=cmd.transaction_id,
            released_by=cmd.staff,
            occurred_at=cmd.now,
        ),
        TopUpCompleted(
            account_id=cmd.account_id,
            top_up_id=top_up.top_up_id,
            provider=top_up.provider,
            reference=top_up.reference,
            provider_event_id=hold.provider_event_id,
            amount_requested=top_up.amount,
            amount_received=hold.amount,
            currency=hold.currency,
            late=hold.late,
            occurred_at=cmd.now,
        ),
        WalletCredited(
            account_id=cmd.account_id,
            transaction_id=cmd.transaction_id,
            amount=hold.amount,
            currency=hold.currency,
            balance_after=wallet.balance + hold.amount,
            reason="top_up",
            reference=top_up.reference,  # the payment memo, as for a direct credit
            occurred_at=cmd.now,
        ),
    ]


def _mark_for_refund(
    cmd: MarkHeldCreditForRefund, state: NoWallet | OpenWallet
) -> list[WalletEvent]:
    _, hold = _hold(state, cmd.hold_id)
    if hold.status == "refund":
        return []
    if hold.status == "released":
        raise Conflict(
            "hold_already_settled", "this payment was released to the balance", status=hold.status
        )
    return [
        HeldCreditMarkedForRefund(
            account_id=cmd.account_id,
            hold_id=hold.hold_id,
            top_up_id=hold.top_up_id,
            amount=hold.amount,
            currency=hold.currency,
            marked_by=cmd.staff,
            occurred_at=cmd.now,
        )
    ]


def _payment_failed(cmd: RecordPaymentFailed, state: NoWallet | OpenWallet) -> list[WalletEvent]:
    _, top_up = _top_up(state, cmd.top_up_id)
    if top_up.status != "pending":
        return []
    return [
        TopUpFailed(
            account_id=cmd.account_id,
            top_up_id=top_up.top_up_id,
            reason="payment_failed",
            provider_event_id=cmd.provider_event_id,
            occurred_at=cmd.now,
        )
    ]


def _expire(cmd: ExpireTopUps, state: NoWallet | OpenWallet) -> list[WalletEvent]:
    if not isinstance(state, OpenWallet):
        return []
    return [
        TopUpFailed(
            account_id=cmd.account_id, top_up_id=t.top_up_id, reason="expired", occurred_at=cmd.now
        )
        for t in state.top_ups.values()
        if t.status == "pending" and t.expires_at <= cmd.now
    ]


def _credit(cmd: CreditWallet, state: NoWallet | OpenWallet) -> list[WalletEvent]:
    if cmd.amount <= 0:
        raise DomainError("amount_not_positive", "the amount must be greater than zero")
    wallet, events = _opened(cmd, state)
    _check_currency(wallet, cmd.currency)
    events.append(
        WalletCredited(
            account_id=cmd.account_id,
            transaction_id=cmd.transaction_id,
            amount=cmd.amount,
            currency=cmd.currency,
            balance_after=wallet.balance + cmd.amount,
            reason=cmd.reason,
            reference=cmd.reference,
            occurred_at=cmd.now,
        )
    )
    return events


def _debit(cmd: DebitWallet, state: NoWallet | OpenWallet) -> list[WalletEvent]:
    if cmd.amount <= 0:
        raise DomainError("amount_not_positive", "the amount must be greater than zero")
    if isinstance(state, NoWallet):
        # Not opened yet (AccountRegistered on its way): an empty wallet, not a missing one;
        # nothing is stored on a stream that has no WalletOpened.
        raise DomainError(
            "insufficient_balance",
            "the balance is too low for this payment",
            balance=0,
            amount=cmd.amount,
            currency=cmd.currency,
        )
    wallet, events = _opened(cmd, state)
    reason: Literal["insufficient_balance", "currency_mismatch"] | None = None
    if cmd.currency != wallet.currency:
        reason = "currency_mismatch"
    elif cmd.amount > wallet.balance:
        reason = "insufficient_balance"
    if reason:
        events.append(
            DebitRejected(
                account_id=cmd.account_id,
                transaction_id=cmd.transaction_id,
                amount=cmd.amount,
                currency=cmd.currency,
                balance=wallet.balance,
                reason=reason,
                reference=cmd.reference,
                occurred_at=cmd.now,
            )
        )
        return events
    events.append(
        WalletDebited(
            account_id=cmd.account_id,
            transaction_id=cmd.transaction_id,
            amount=cmd.amount,
            currency=cmd.currency,
            balance_after=wallet.balance - cmd.amount,
            reason=cmd.reason,
            reference=cmd.reference,
            occurred_at=cmd.now,
        )
    )
    return events


# --- evolve ---


def evolve(state: NoWallet | OpenWallet, event: WalletEvent) -> NoWallet | OpenWallet:
    match event:
        case WalletOpened():
            return OpenWallet(account_id=event.account_id, currency=event.currency)
    if not isinstance(state, OpenWallet):
        return state  # events before opening cannot happen; ignore defensively
    match event:
        case TopUpRequested():
            top_up = TopUp(
                top_up_id=event.top_up_id,
                amount=event.amount,
                currency=event.currency,
                method=event.method,
                provider=event.provider,
                reference=event.reference,
                requested_at=event.occurred_at,
                expires_at=event.expires_at,
            )
            return state.model_copy(update={"top_ups": {**state.top_ups, top_up.top_up_id: top_up}})
        case TopUpCompleted():
            old = state.top_ups[event.top_up_id]
            top_up = old.model_copy(
                update={
                    "status": "completed",
                    "failure_reason": None,
                    "completed_at": event.occurred_at,
                    "amount_received": old.amount_received + event.amount_received,
                }
            )
            return state.model_copy(
                update={
                    "top_ups": {**state.top_ups, top_up.top_up_id: top_up},
                    "total_topped_up": state.total_topped_up + event.amount_received,
                }
            )
        case TopUpFailed():
            old = state.top_ups[event.top_up_id]
            top_up = old.model_copy(update={"status": "failed", "failure_reason": event.reason})
            return state.model_copy(update={"top_ups": {**state.top_ups, top_up.top_up_id: top_up}})
        case WalletCredited():
            return state.model_copy(
                update={
                    "balance": event.balance_after,
                    "total_credited": state.total_credited + event.amount,
                }
            )
        case WalletDebited():
            return state.model_copy(
                update={
                    "balance": event.balance_after,
                    "total_debited": state.total_debited + event.amount,
                }
            )
        case DebitRejected():
            return state
        case TopUpHeldForReview():
            hold = HeldCredit(
                hold_id=event.hold_id,
                top_up_id=event.top_up_id,
                provider_event_id=event.provider_event_id,
                amount=event.amount_received,
                currency=event.currency,
                reason=event.reason,
                late=event.late,
                held_at=event.occurred_at,
            )
            old = state.top_ups[event.top_up_id]
            # A top-up that had no credited payment shows that its money awaits review.
            top_up = (
                old
                if old.status == "completed"
                else old.model_copy(update={"status": "held", "failure_reason": None})
            )
            return state.model_copy(
                update={
                    "holds": {**state.holds, hold.hold_id: hold},
                    "top_ups": {**state.top_ups, top_up.top_up_id: top_up},
                }
            )
        case HeldCreditReleased():
            # TopUpCompleted and WalletCredited of the same commit move the money.
            return _settle(state, event.hold_id, "released", event.released_by, event.occurred_at)
        case HeldCreditMarkedForRefund():
            state = _settle(state, event.hold_id, "refund", event.marked_by, event.occurred_at)
            old = state.top_ups[event.top_up_id]
            if old.status != "held":
                return state
            top_up = old.model_copy(update={"status": "failed", "failure_reason": "refunded"})
            return state.model_copy(update={"top_ups": {**state.top_ups, top_up.top_up_id: top_up}})
    return state


def _settle(
    state: OpenWallet,
    hold_id: str,
    status: Literal["released", "refund"],
    staff: str,
    at: datetime,
) -> OpenWallet:
    hold = state.holds[hold_id].model_copy(
        update={"status": status, "settled_by": staff, "settled_at": at}
    )
    return state.model_copy(update={"holds": {**state.holds, hold_id: hold}})


def dump_state(state: NoWallet | OpenWallet) -> dict[str, Any]:
    return _StateBox(state=state).model_dump(mode="json")


def load_state(data: dict[str, Any]) -> NoWallet | OpenWallet:
    return _StateBox.model_validate(data).state


wallet_decider: Decider[Command, NoWallet | OpenWallet, WalletEvent] = Decider(
    initial_state=NoWallet(),
    decide=decide,
    evolve=evolve,
    dump_state=dump_state,
    load_state=load_state,
    state_version=2,
)
