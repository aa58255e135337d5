"""What billing's use cases need, built once in main.py, and the helpers they all share.

Every use-case module (catalogue, orders, payments, claims, renewals, follow_ups, queries)
is plain functions that take this `Deps` first: the wiring names each dependency once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_billing import domain
from portal_billing.documents import PdfFonts
from portal_billing.domain import Invoice, Plan, Subscription
from portal_billing.settings import BillingSettings
from portal_billing.wallet import WalletPort
from portal_chassis.blobs import BlobStore
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner
from portal_chassis.eventstore import EventStore
from portal_chassis.mongo import index
from portal_chassis.numbers import claim_number
from portal_chassis.starts import StreamStarts
from portal_chassis.usecases import Roles

Doc = dict[str, Any]
ADMINS = Roles(
    "the catalogue is managed by billing admins", frozenset({"billing_admin", "platform_admin"})
)
READ_MODEL_INDEXES = {
    "invoices_view": [
        index("account_issued", "account_id", "-issued_at"),
        index("status_issued", "status", "-issued_at"),
        index("subscription_status", "subscription_id", "status"),  # one open change
        index("payment_in_progress", "payment_in_progress_since"),  # the payment sweep
    ],
    "subscriptions_view": [
        index("account_started", "account_id", "-starts_on"),
        index("status_ends", "status", "ends_on"),  # the expiry scheduler
    ],
    "claims_view": [
        index("account_filed", "account_id", "-filed_at"),
        index("status_review_due", "status", "review_due_at"),  # overdue claims
    ],
    "followed_up": [index("unfinished", "done", "at")],  # the follow-up sweep
}


class PaymentInProgress(Exception):
    """The wallet's answer to a started payment is unknown; it is finished later."""

    def __init__(self, invoice_id: str, payment_id: str) -> None:
        super().__init__(f"payment {payment_id} of invoice {invoice_id} is in progress")
        self.invoice_id = invoice_id
        self.payment_id = payment_id


@dataclass
class Deps:
    store: EventStore
    db: AsyncDatabase[Doc]
    settings: BillingSettings
    wallet: WalletPort
    clock: Clock
    new_id: Callable[[], str]
    pdf_fonts: PdfFonts
    plans: CommandRunner[domain.PlanCommand, Plan]
    invoices: CommandRunner[domain.InvoiceCommand, Invoice]
    subscriptions: CommandRunner[domain.SubscriptionCommand, Subscription]
    accounts: CommandRunner[domain.AccountCommand, domain.BillingAccount]
    plans_view: AsyncCollection[Doc]
    invoices_view: AsyncCollection[Doc]
    subscriptions_view: AsyncCollection[Doc]
    claims_view: AsyncCollection[Doc]
    codes: AsyncCollection[Doc]
    numbers: AsyncCollection[Doc]
    starts: StreamStarts
    provider_payments: AsyncCollection[Doc]
    pending_credits: AsyncCollection[Doc]
    followed_up: AsyncCollection[Doc]
    blobs: BlobStore


def build_deps(
    store: EventStore,
    db: AsyncDatabase[Doc],
    settings: BillingSettings,
    wallet: WalletPort,
    clock: Clock,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> Deps:
    every = settings.snapshot_every
    return Deps(
        store=store,
        db=db,
        settings=settings,
        wallet=wallet,
        clock=clock,
        new_id=new_id,
        pdf_fonts=PdfFonts.from_dir(settings.pdf_font_dir),
        plans=CommandRunner(store, domain.plan_decider, "plan", snapshot_every=every),
        invoices=CommandRunner(store, domain.invoice_decider, "invoice", snapshot_every=every),
        subscriptions=CommandRunner(
            store, domain.subscription_decider, "subscription", snapshot_every=every
        ),
        accounts=CommandRunner(
            store, domain.account_decider, "billing-account", snapshot_every=every
        ),
        plans_view=db["plans_view"],
        invoices_view=db["invoices_view"],
        subscriptions_view=db["subscriptions_view"],
        claims_view=db["claims_view"],
        codes=db["codes"],
        numbers=db["numbers"],
        starts=StreamStarts(db["requests"]),  # an order's key -> its invoice
        provider_payments=db["provider_payments"],
        pending_credits=db["pending_credits"],
        followed_up=db["followed_up"],
        blobs=BlobStore(db, "proofs"),
    )


def today(deps: Deps) -> date:
    return deps.clock.now().date()


async def number(deps: Deps, prefix: str) -> str:
    return await claim_number(deps.numbers, prefix, deps.clock.now().year)


def derived_id(*parts: str) -> str:
    """A stable id from a request's identity, so a retried request reuses it."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
