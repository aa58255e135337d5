"""`portal money reconcile`: three ways money is recorded must agree.

1. Each wallet's balance (its state, folded by the wallet's own decider from its
   events) equals its ledger: credits minus debits.
2. Each billing payment taken from the wallet (channel `wallet` or `provider`) has the
   wallet debit made under its key (the payment id is the debit's idempotency key, see
   billing's `_pay_from_wallet`) for the same amount, and each `invoice_payment` debit
   belongs to a payment that was recorded or is still in progress. An abandoned payment
   must have no debit.
3. Each customer dashboard (the gateway's read model) shows the wallet's balance.

Everything is read from the owners' databases: the event stores are the truth, the
read models are what is checked against them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.auth import Principal
from portal_chassis.eventstore import COMMITS
from portal_chassis.rebuild import STATUS, read_model_names
from portal_contracts.base import DomainEvent
from portal_contracts.events.billing import (
    InvoicePaymentAbandoned,
    InvoicePaymentRecorded,
    InvoicePaymentStarted,
)
from portal_contracts.events.wallet import WalletCredited, WalletDebited, WalletEvent
from portal_contracts.registry import UnknownEventType, parse_event

DEBITED_CHANNELS = frozenset({"wallet", "provider"})
"""Billing payment channels whose money is taken by a wallet debit (claims are not)."""


@dataclass(frozen=True)
class Difference:
    check: str
    subject: str
    expected: str
    found: str
    detail: str = ""


@dataclass
class Wallet:
    account_id: str
    stream_id: str
    balance: int = 0
    ledger: int = 0
    currency: str = ""


@dataclass(frozen=True)
class Debit:
    key: str
    account_id: str
    amount: int
    currency: str
    transaction_id: str


@dataclass
class Payment:
    payment_id: str
    invoice_id: str
    account_id: str
    channel: str = ""
    amount: int = 0
    currency: str = ""
    status: str = "started"


@dataclass
class Books:
    """What reconcile compares, loaded from the three databases."""

    wallets: dict[str, Wallet] = field(default_factory=dict)
    debits: dict[str, Debit] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    dashboards: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)


def _events(doc: dict[str, Any]) -> list[DomainEvent]:
    out = []
    for e in doc.get("events", []):
        try:
            out.append(parse_event(e["type"], e["sv"], e["data"]))
        except UnknownEventType:
            continue  # a type this build does not know carries no money we can check
    return out


def _idempotency_key(doc: dict[str, Any]) -> str | None:
    """The command's key as the event store records it (`<stream>|<key>`)."""
    idem = str(doc.get("idem") or "")
    prefix = f"{doc['stream_id']}|"
    return idem[len(prefix) :] if idem.startswith(prefix) else None


async def _commits(db: AsyncDatabase[dict[str, Any]]) -> list[dict[str, Any]]:
    docs = [doc async for doc in db[COMMITS].find({})]
    docs.sort(key=lambda d: (d["stream_id"], d["first_version"]))
    return docs


async def load_wallets(db: AsyncDatabase[dict[str, Any]], books: Books) -> None:
    from portal_wallet.domain import OpenWallet, wallet_decider

    by_stream: dict[str, list[WalletEvent]] = defaultdict(list)
    for doc in await _commits(db):
        key = _idempotency_key(doc)
        for event in _events(doc):
            if not isinstance(event, WalletEvent):
                continue
            by_stream[doc["stream_id"]].append(event)
            if isinstance(event, WalletDebited) and event.reason == "invoice_payment":
                books.debits[key or f"(no key) {event.transaction_id}"] = Debit(
                    key or "", event.account_id, event.amount, event.currency, event.transaction_id
                )
    for stream_id, events in by_stream.items():
        state = wallet_decider.fold(wallet_decider.initial_state, events)
        wallet = Wallet(events[0].account_id, stream_id)
        if isinstance(state, OpenWallet):
            wallet.balance, wallet.currency = state.balance, state.currency
        for event in events:
            if isinstance(event, WalletCredited):
                wallet.ledger += event.amount
            elif isinstance(event, WalletDebited):
                wallet.ledger -= event.amount
        books.wallets[wallet.account_id] = wallet


async def load_payments(db: AsyncDatabase[dict[str, Any]], books: Books) -> None:
    for doc in await _commits(db):
        for event in _events(doc):
            if isinstance(event, InvoicePaymentStarted | InvoicePaymentRecorded):
                payment = books.payments.setdefault(
                    event.payment_id,
                    Payment(event.payment_id, event.invoice_id, event.account_id),
                )
                payment.channel, payment.amount = event.channel, event.amount
                payment.currency = event.currency
                if isinstance(event, InvoicePaymentRecorded):
                    payment.status = "recorded"
            elif isinstance(event, InvoicePaymentAbandoned):
                abandoned = books.payments.setdefault(
                    event.payment_id,
                    Payment(event.payment_id, event.invoice_id, event.account_id),
                )
                abandoned.status = "abandoned"


async def load_dashboards(db: AsyncDatabase[dict[str, Any]], books: Books) -> None:
    # The balance as the dashboard renders it, read through the gateway's own part.
    from portal_gateway.dashboard import DASHBOARDS, PROJECTION, READ_MODELS, WalletPart

    # The collection readers use now (a blue/green rebuild moves it).
    status = await db[STATUS].find_one({"_id": PROJECTION})
    collection = read_model_names(status, READ_MODELS)[DASHBOARDS]
    part = WalletPart()
    async for doc in db[collection].find({}):
        viewer = Principal("portal-cli", str(doc["_id"]), frozenset({"owner"}), None, "")
        shown = part.render(doc, viewer) or {}
        if "wallet" in doc:
            books.dashboards[str(doc["_id"])] = int(shown.get("wallet", {}).get("balance", 0))


def compare(books: Books) -> list[Difference]:
    """Every disagreement between the wallets, billing and the dashboards."""
    out: list[Difference] = []
    for wallet in books.wallets.values():
        if wallet.balance != wallet.ledger:
            out.append(
                Difference(
                    "wallet = ledger",
                    wallet.account_id,
                    f"{wallet.ledger} (credits - debits)",
                    f"{wallet.balance} (balance)",
                    wallet.stream_id,
                )
            )
    for payment in books.payments.values():
        if payment.channel and payment.channel not in DEBITED_CHANNELS:
            continue
        debit = books.debits.get(payment.payment_id)
        where = f"invoice {payment.invoice_id}"
        if payment.status == "abandoned":
            if debit is not None:
                out.append(
                    Difference(
                        "payment = debit",
                        payment.payment_id,
                        "no debit (payment abandoned)",
                        f"debit {debit.amount} {debit.currency}",
                        where,
                    )
                )
            continue
        if debit is None:
            if payment.status == "recorded":
                out.append(
                    Difference(
                        "payment = debit",
                        payment.payment_id,
                        f"debit {payment.amount} {payment.currency}",
                        "no wallet debit",
                        where,
                    )
                )
            continue  # in progress: the debit may not have been made yet
        if (debit.amount, debit.currency, debit.account_id) != (
            payment.amount,
            payment.currency,
            payment.account_id,
        ):
            out.append(
                Difference(
                    "payment = debit",
                    payment.payment_id,
                    f"{payment.amount} {payment.currency} from {payment.account_id}",
                    f"{debit.amount} {debit.currency} from {debit.account_id}",
                    where,
                )
            )
    for key, debit in books.debits.items():
        paid = books.payments.get(debit.key) if debit.key else None
        # A debit of an abandoned payment was reported above, once.
        if paid is None or (paid.channel and paid.channel not in DEBITED_CHANNELS):
            out.append(
                Difference(
                    "debit = payment",
                    key,
                    "a recorded or in-progress billing payment",
                    f"invoice_payment debit {debit.amount} {debit.currency}, no payment",
                    f"account {debit.account_id}",
                )
            )
    for account_id, wallet in books.wallets.items():
        shown = books.dashboards.get(account_id)
        if shown is None and wallet.balance == 0:
            continue  # nothing to show yet
        if shown != wallet.balance:
            out.append(
                Difference(
                    "dashboard = wallet",
                    account_id,
                    f"{wallet.balance} (wallet)",
                    "no dashboard" if shown is None else f"{shown} (dashboard)",
                )
            )
    for account_id, shown in books.dashboards.items():
        if account_id not in books.wallets and shown != 0:
            out.append(
                Difference("dashboard = wallet", account_id, "no wallet", f"{shown} (dashboard)")
            )
    return out


async def reconcile(
    wallet_db: AsyncDatabase[dict[str, Any]],
    billing_db: AsyncDatabase[dict[str, Any]],
    gateway_db: AsyncDatabase[dict[str, Any]],
    accounts: frozenset[str] = frozenset(),
) -> Books:
    """Load and compare; `accounts` limits every check to those accounts (all if empty)."""
    books = Books()
    await load_wallets(wallet_db, books)
    await load_payments(billing_db, books)
    await load_dashboards(gateway_db, books)
    if accounts:
        books = only(books, accounts)
    books.differences = compare(books)
    return books


def only(books: Books, accounts: frozenset[str]) -> Books:
    return Books(
        wallets={k: w for k, w in books.wallets.items() if k in accounts},
        debits={k: d for k, d in books.debits.items() if d.account_id in accounts},
        payments={k: p for k, p in books.payments.items() if p.account_id in accounts},
        dashboards={k: b for k, b in books.dashboards.items() if k in accounts},
    )
