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

from portal_chassis.decider import Decider, DomainError, NotFound
from portal_contracts.events.wallet import (
    CreditReason,
    DebitReason,
    DebitRejected,
    PaymentMethod,
    TopUpCompleted,
    TopUpFailed,
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


@dataclass(frozen=True)
class RecordPaymentSucceeded(WalletCommand):
    top_up_id: str
    provider_event_id: str
    amount: int
    currency: str
    transaction_id: str


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


Command = (
    OpenAccountWallet
    | RequestTopUp
    | RecordPaymentSucceeded
    | RecordPaymentFailed
    | ExpireTopUps
    | CreditWallet
    | DebitWallet
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
    status: Literal["pending", "completed", "failed"] = "pending"
    failure_reason: str | None = None
    amount_received: int = 0
    completed_at: datetime | None = None


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


WalletState = Annotated[NoWallet | OpenWallet, Field(discriminator="kind")]


class _StateBox(BaseModel):
    state: WalletState


# --- decide ---


def _opened(
    cmd: WalletCommand, state: NoWallet | OpenWallet
) -> tuple[OpenWallet, list[WalletEvent]]:
    # Wallets open when identity registers the account (AccountRegistered).
    if isinstance(state, OpenWallet):
        return state, []
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
    wallet, events = _opened(cmd, state)
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
    # Money that arrived is always credited, even late or twice: it is never lost.
    late = top_up.status != "pending" or cmd.now > top_up.expires_at
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
        reference=top_up.top_up_id,
        occurred_at=cmd.now,
    )
    return [completed, credited]


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
    return state


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
    state_version=1,
)
