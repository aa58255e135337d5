"""Billing use cases: catalogue, orders, renewals, upgrades, payments, claims, expiry.

Paying from the wallet is a small saga: the wallet is debited first with an
Idempotency-Key derived from the payment (a refusal changes nothing here), then the
payment is recorded on the invoice. A crash between the two is healed by the same
request retried (same key, the wallet replays) or, for provider payments, by the
redelivered wallet event. What follows a recorded fact (starting the subscription,
crediting excess money back to the wallet) runs right away and again from billing's
own events, and every step is idempotent, so it happens exactly once in effect.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_billing import domain
from portal_billing.catalogue import SEED_PLANS
from portal_billing.documents import (
    DocumentKind,
    PdfFonts,
    render_html,
    render_invoice_pdf,
    render_pdf,
)
from portal_billing.domain import Invoice, Plan, Subscription
from portal_billing.models import (
    ClaimIn,
    ClaimOut,
    ClaimsPage,
    CodeOut,
    ContractOut,
    ExpiryCheckOut,
    InvoiceOut,
    InvoiceRowOut,
    InvoicesPage,
    PayIn,
    PlanIn,
    PlanOut,
    PlansOut,
    PlanTermsIn,
    RefundIn,
    RenewIn,
    SettingsOut,
    SubscriptionOut,
    SubscriptionsPage,
    UpgradeIn,
    UpgradePreviewOut,
)
from portal_billing.settings import BillingSettings
from portal_billing.views import (
    claim_out,
    contract_entry,
    invoice_row,
    order_lines,
    plan_row,
    strip_id,
    subscription_row,
    without,
)
from portal_billing.wallet import WalletPort
from portal_chassis.auth import Principal
from portal_chassis.blobs import BlobStore, sniff
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner, Outcome
from portal_chassis.contract import FileIn, paginate
from portal_chassis.decider import Conflict, DomainError, Forbidden, NotFound
from portal_chassis.eventstore import CommitMetadata, EventStore, StoredEvent
from portal_chassis.faults import failpoint
from portal_chassis.logging import get_logger
from portal_chassis.mongo import ensure_read_model_indexes, index, update_by_id
from portal_chassis.numbers import claim_number
from portal_chassis.problems import ProblemError
from portal_chassis.projection import upsert_if_newer
from portal_contracts.events.billing import (
    BillingEvent,
    InvoiceCancelled,
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
    InvoicePaymentRecorded,
    InvoiceRefunded,
    OrderKind,
    PaymentChannel,
    PeriodPrice,
)
from portal_contracts.events.wallet import TopUpCompleted

log = get_logger(__name__)

ADMIN_ROLES = frozenset({"billing_admin", "platform_admin"})
MAX_PROOF_BYTES = 10 * 1024 * 1024
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
}


def is_billing_admin(principal: Principal) -> bool:
    return bool(principal.roles & ADMIN_ROLES)


# Answers of the wallet that say "not now" rather than yes or no.
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


class PaymentInProgress(Exception):
    """The wallet's answer to a started payment is unknown; it is finished later."""

    def __init__(self, invoice_id: str, payment_id: str) -> None:
        super().__init__(f"payment {payment_id} of invoice {invoice_id} is in progress")
        self.invoice_id = invoice_id
        self.payment_id = payment_id


def derived_id(*parts: str) -> str:
    """A stable id from a request's identity, so a retried request reuses it."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Proof:
    """A payment proof checked on its bytes."""

    content_type: str
    extension: str
    data: bytes


PROOF_TYPES = ("image/png", "image/jpeg", "application/pdf")


def checked_proof(file: FileIn) -> Proof:
    """Decode a proof and check it on its bytes. Like the chassis' upload checks these are
    refusals of the input itself (no rule of an invoice), answered with their own statuses."""
    try:
        raw = base64.b64decode(file.content_base64, validate=True)
    except ValueError:
        raise ProblemError(400, "invalid_file", "content_base64 is not base64") from None
    if len(raw) > MAX_PROOF_BYTES:
        raise ProblemError(413, "file_too_large", "a proof file is at most 10 MB")
    kind = sniff(raw)
    if kind is None or kind[0] not in PROOF_TYPES:
        raise ProblemError(415, "unsupported_file_type", "a proof is a PNG or JPEG image or a PDF")
    return Proof(kind[0], kind[1], raw)


CONTRACT_DOCUMENTS: dict[str, tuple[DocumentKind, Literal["pdf", "html"]]] = {
    "terms.pdf": ("terms", "pdf"),
    "terms.html": ("terms", "html"),
    "confirmation.pdf": ("confirmation", "pdf"),
    "confirmation.html": ("confirmation", "html"),
}


@dataclass(frozen=True)
class ContractDocument:
    """A contract document: a PDF (sent as an attachment) or an HTML page (shown)."""

    content: bytes | str
    media_type: Literal["application/pdf", "text/html"]
    filename: str | None


class BillingService:
    def __init__(
        self,
        store: EventStore,
        db: AsyncDatabase[dict[str, Any]],
        settings: BillingSettings,
        wallet: WalletPort,
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.store = store
        self.db = db
        self.settings = settings
        self.pdf_fonts = PdfFonts.from_dir(settings.pdf_font_dir)
        self.wallet = wallet
        self.clock = clock
        self.new_id = new_id
        every = settings.snapshot_every
        self.plans: CommandRunner[domain.PlanCommand, Plan] = CommandRunner(
            store, domain.plan_decider, "plan", snapshot_every=every
        )
        self.invoices: CommandRunner[domain.InvoiceCommand, Invoice] = CommandRunner(
            store, domain.invoice_decider, "invoice", snapshot_every=every
        )
        self.subscriptions: CommandRunner[domain.SubscriptionCommand, Subscription] = CommandRunner(
            store, domain.subscription_decider, "subscription", snapshot_every=every
        )
        self.accounts: CommandRunner[domain.SetAutoPay, domain.BillingAccount] = CommandRunner(
            store, domain.account_decider, "billing-account", snapshot_every=every
        )
        self.plans_view = db["plans_view"]
        self.invoices_view = db["invoices_view"]
        self.subscriptions_view = db["subscriptions_view"]
        self.claims_view = db["claims_view"]
        self.codes = db["codes"]
        self.numbers = db["numbers"]
        self.requests = db["requests"]
        self.provider_payments = db["provider_payments"]
        self.pending_credits = db["pending_credits"]
        self.blobs = BlobStore(db, "proofs")

    # ------------------------------------------------------------ setup

    async def setup(self) -> None:
        await ensure_read_model_indexes(self.db, READ_MODEL_INDEXES)
        await self.blobs.setup()
        if self.settings.seed_catalogue:
            for seed in SEED_PLANS:
                await self._run_plan(
                    seed["plan_id"],
                    domain.PublishPlan(
                        now=self.clock.now(), currency=self.settings.currency, **seed
                    ),
                    actor="seed",
                )

    def _meta(self, account_id: str, actor: str) -> CommitMetadata:
        return CommitMetadata.current(tenant=account_id, actor=actor)

    def _today(self) -> date:
        return self.clock.now().date()

    async def _number(self, prefix: str) -> str:
        return await claim_number(self.numbers, prefix, self.clock.now().year)

    async def _remember_request(self, key: str, fingerprint: str, result_id: str) -> str:
        """Idempotency for commands that create a new stream: the first id wins."""
        try:
            await self.requests.insert_one({"_id": key, "fp": fingerprint, "id": result_id})
            return result_id
        except DuplicateKeyError:
            earlier = await self.requests.find_one({"_id": key})
            assert earlier is not None
            if earlier["fp"] != fingerprint:
                raise DomainError(
                    "idempotency_key_reused", "this Idempotency-Key was used for another request"
                ) from None
            return str(earlier["id"])

    # ------------------------------------------------------------ catalogue

    async def _run_plan(self, plan_id: str, command: domain.PlanCommand, actor: str) -> Plan:
        outcome = await self.plans.run(
            domain.plan_stream(plan_id), command, metadata=self._meta(domain.PLATFORM, actor)
        )
        await upsert_if_newer(
            self.plans_view,
            plan_id,
            outcome.version,
            plan_row(outcome.state),
        )
        return outcome.state

    def _require_admin(self, principal: Principal) -> None:
        if not is_billing_admin(principal):
            raise Forbidden("forbidden", "the catalogue is managed by billing admins")

    async def publish_plan(self, principal: Principal, data: PlanIn) -> PlanOut:
        self._require_admin(principal)
        code = data.code.strip().upper()
        plan_id = code.lower()
        try:
            await self.codes.insert_one({"_id": f"plan:{code}", "plan_id": plan_id})
        except DuplicateKeyError:
            raise Conflict("plan_code_taken", f"a plan with code {code} exists") from None
        state = await self._run_plan(
            plan_id,
            domain.PublishPlan(
                now=self.clock.now(),
                plan_id=plan_id,
                code=code,
                name=data.name,
                category=data.category,
                tier=data.tier,
                monthly_price=data.monthly_price,
                currency=self.settings.currency,
                periods=tuple(PeriodPrice(**p.model_dump()) for p in data.periods),
                description=data.description,
            ),
            principal.user_id,
        )
        return PlanOut.model_validate(plan_row(state))

    async def change_plan(self, principal: Principal, plan_id: str, data: PlanTermsIn) -> PlanOut:
        self._require_admin(principal)
        state = await self._run_plan(
            plan_id,
            domain.ChangePlan(
                now=self.clock.now(),
                name=data.name,
                monthly_price=data.monthly_price,
                periods=tuple(PeriodPrice(**p.model_dump()) for p in data.periods),
                description=data.description,
            ),
            principal.user_id,
        )
        return PlanOut.model_validate(plan_row(state))

    async def retire_plan(self, principal: Principal, plan_id: str) -> PlanOut:
        self._require_admin(principal)
        state = await self._run_plan(
            plan_id, domain.RetirePlan(now=self.clock.now()), principal.user_id
        )
        return PlanOut.model_validate(plan_row(state))

    async def plan(self, plan_id: str) -> Plan:
        state, _ = await self.plans.load(domain.plan_stream(plan_id))
        if state.status == "none":
            raise NotFound("plan_not_found", "no such plan", plan_id=plan_id)
        return state

    async def plan_view(self, plan_id: str) -> PlanOut:
        """A plan of the price list (public: anyone may see what is for sale)."""
        return PlanOut.model_validate(plan_row(await self.plan(plan_id)))

    async def list_plans(
        self,
        principal: Principal | None,
        *,
        include_retired: bool,
        category: str | None,
        tier: str | None,
    ) -> PlansOut:
        """The price list (public); retired plans only for billing admins who ask."""
        include_retired = include_retired and principal is not None and is_billing_admin(principal)
        query: dict[str, Any] = {} if include_retired else {"status": "active"}
        if category:
            query["category"] = category
        if tier:
            query["tier"] = tier
        rows = [strip_id(r) async for r in self.plans_view.find(query).sort("code", 1)]
        order = {t: i for i, t in enumerate(domain.TIERS)}
        rows.sort(key=lambda r: (r["category"], order.get(r["tier"], 9), r["code"]))
        return PlansOut.model_validate({"items": rows, "total": len(rows)})

    # ------------------------------------------------------------ orders

    async def _issue(
        self,
        *,
        account_id: str,
        actor: str,
        invoice_id: str,
        order_kind: OrderKind,
        subscription_id: str,
        plan: Plan,
        months: int,
        lines: tuple[InvoiceLine, ...],
        upgrade_from: str | None = None,
        upgrade_credit: int = 0,
    ) -> Invoice:
        existing, _ = await self.invoices.load(domain.invoice_stream(invoice_id))
        if existing.status != "none":
            return existing  # the same request again: the invoice already exists
        now = self.clock.now()
        total = sum(line.amount for line in lines)
        order_id = await self._number("OD")
        command = domain.IssueInvoice(
            now=now,
            invoice_id=invoice_id,
            account_id=account_id,
            proforma_number=await self._number("PF"),
            order_id=order_id,
            order_kind=order_kind,
            subscription_id=subscription_id,
            plan=plan,
            months=months,
            lines=lines,
            due_at=now + timedelta(days=self.settings.invoice_due_days),
            invoice_number=await self._number("INV") if total == 0 else None,
            upgrade_from_plan_id=upgrade_from,
            upgrade_credit=upgrade_credit,
        )
        outcome = await self.invoices.run(
            domain.invoice_stream(invoice_id), command, metadata=self._meta(account_id, actor)
        )
        await update_by_id(
            self.codes,
            order_id,
            {"$set": {"account_id": account_id, "kind": "order", "invoice_id": invoice_id}},
        )
        await self._after_invoice(invoice_id, actor, outcome)
        if total > 0 and await self._auto_pay_enabled(account_id):
            try:
                await self._pay_from_wallet(
                    outcome.state,
                    outcome.state.due,
                    payment_id=derived_id("auto", invoice_id),
                    channel="wallet",
                    reference=outcome.state.proforma_number,
                    actor="auto-pay",
                )
            except DomainError as exc:
                log.info("auto-pay skipped", invoice_id=invoice_id, code=exc.code)
            except PaymentInProgress:
                pass  # started; the payment sweep finishes it with the same key
        state, _ = await self.invoices.load(domain.invoice_stream(invoice_id))
        return state

    async def place_order(
        self, principal: Principal, plan_id: str, months: int, key: str | None
    ) -> InvoiceOut:
        plan = await self.plan(plan_id)
        if plan.status != "active":
            raise DomainError("plan_not_available", "this plan is not sold any more")
        price = plan.price(months)  # refuses a period the plan is not sold for
        invoice_id = self.new_id()
        if key:
            invoice_id = await self._remember_request(
                f"order|{principal.account_id}|{key}", f"{plan_id}|{months}", invoice_id
            )
        lines = order_lines(plan, months, price)
        state = await self._issue(
            account_id=principal.account_id,
            actor=principal.user_id,
            invoice_id=invoice_id,
            order_kind="new",
            subscription_id=derived_id("subscription", invoice_id),
            plan=plan,
            months=months,
            lines=lines,
        )
        return await self.invoice(principal, state.invoice_id)

    async def _own_subscription(self, principal: Principal, subscription_id: str) -> Subscription:
        state, _ = await self.subscriptions.load(domain.subscription_stream(subscription_id))
        if state.status == "none" or (
            state.account_id != principal.account_id and not is_billing_admin(principal)
        ):
            raise NotFound("subscription_not_found", "no such subscription")
        return state

    async def _open_change(self, subscription_id: str) -> None:
        """One pending renewal or upgrade at a time keeps quotes and end dates coherent."""
        pending = await self.invoices_view.find_one(
            {"subscription_id": subscription_id, "status": {"$in": list(domain.OPEN)}}
        )
        if pending is not None:
            raise Conflict(
                "invoice_pending",
                "this subscription has an unpaid invoice; pay or cancel it first",
                invoice_id=pending["_id"],
            )

    async def renew(
        self, principal: Principal, subscription_id: str, data: RenewIn, key: str | None
    ) -> InvoiceOut:
        sub = await self._own_subscription(principal, subscription_id)
        plan = await self.plan(sub.plan_id)
        if plan.status != "active":
            raise DomainError("plan_not_available", "this plan is retired; order a current one")
        price = plan.price(data.months)
        invoice_id = self.new_id()
        if key:
            invoice_id = await self._remember_request(
                f"renew|{sub.account_id}|{key}", f"{subscription_id}|{data.months}", invoice_id
            )
        known, _ = await self.invoices.load(domain.invoice_stream(invoice_id))
        if known.status == "none":
            await self._open_change(subscription_id)
        base = domain.renewal_base(sub, self._today())
        lines = order_lines(plan, data.months, price, f" (renewal from {base.isoformat()})")
        state = await self._issue(
            account_id=sub.account_id,
            actor=principal.user_id,
            invoice_id=invoice_id,
            order_kind="renewal",
            subscription_id=subscription_id,
            plan=plan,
            months=data.months,
            lines=lines,
        )
        return await self._pay_now_if_asked(principal, state, data.pay_from_wallet, key)

    async def upgrade_preview(
        self, principal: Principal, subscription_id: str, plan_id: str
    ) -> UpgradePreviewOut:
        sub = await self._own_subscription(principal, subscription_id)
        new = await self.plan(plan_id)
        quote = domain.upgrade_quote(sub, new, self._today())
        preview = {
            "subscription_id": subscription_id,
            "from": {"plan_id": sub.plan_id, "tier": sub.tier, "name": sub.plan_name},
            "to": {"plan_id": new.plan_id, "tier": new.tier, "name": new.name},
            "effective_on": self._today(),
            "ends_on": sub.ends_on,
            "remaining_days": quote.remaining_days,
            "period_days": quote.period_days,
            "credit": quote.credit,
            "charge": quote.charge,
            "amount_due": quote.charge,
            "currency": sub.currency,
            "rounding": "credit rounded down, charge rounded up, to the currency's minor unit",
        }
        return UpgradePreviewOut.model_validate(preview)

    async def upgrade(
        self, principal: Principal, subscription_id: str, data: UpgradeIn, key: str | None
    ) -> InvoiceOut:
        sub = await self._own_subscription(principal, subscription_id)
        new = await self.plan(data.plan_id)
        quote = domain.upgrade_quote(sub, new, self._today())
        if data.expected_charge is not None and data.expected_charge != quote.charge:
            raise Conflict(
                "quote_changed",
                "the upgrade price changed since the preview; preview again",
                charge=quote.charge,
            )
        invoice_id = self.new_id()
        if key:
            invoice_id = await self._remember_request(
                f"upgrade|{sub.account_id}|{key}", f"{subscription_id}|{new.plan_id}", invoice_id
            )
        known, _ = await self.invoices.load(domain.invoice_stream(invoice_id))
        if known.status == "none":
            await self._open_change(subscription_id)
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
        state = await self._issue(
            account_id=sub.account_id,
            actor=principal.user_id,
            invoice_id=invoice_id,
            order_kind="upgrade",
            subscription_id=subscription_id,
            plan=new,
            months=0,
            lines=lines,
            upgrade_from=sub.plan_id,
            upgrade_credit=quote.credit,
        )
        return await self._pay_now_if_asked(principal, state, data.pay_from_wallet, key)

    async def _pay_now_if_asked(
        self, principal: Principal, state: Invoice, pay: bool, key: str | None
    ) -> InvoiceOut:
        if pay and state.due > 0:
            try:
                await self._pay_from_wallet(
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
                await self._run_invoice(
                    state.invoice_id,
                    domain.CancelInvoice(now=self.clock.now(), reason="payment_rejected"),
                    state.account_id,
                    principal.user_id,
                )
                raise
            except PaymentInProgress:
                pass  # the invoice shows the payment in progress; the sweep finishes it
        return await self.invoice(principal, state.invoice_id)

    # ------------------------------------------------------------ payments

    async def _run_invoice(
        self, invoice_id: str, command: domain.InvoiceCommand, account_id: str, actor: str
    ) -> Invoice:
        """Run an invoice command, claiming an invoice number if it completes the invoice."""
        stream = domain.invoice_stream(invoice_id)
        meta = self._meta(account_id, actor)
        try:
            outcome = await self.invoices.run(stream, command, metadata=meta)
        except domain.InvoiceNumberNeeded:
            numbered = replace(command, invoice_number=await self._number("INV"))  # type: ignore[type-var]
            outcome = await self.invoices.run(stream, numbered, metadata=meta)
        await self._after_invoice(invoice_id, actor, outcome)
        return outcome.state

    async def _load_invoice(self, principal: Principal, invoice_id: str) -> Invoice:
        state, _ = await self.invoices.load(domain.invoice_stream(invoice_id))
        if state.status == "none" or (
            state.account_id != principal.account_id and not is_billing_admin(principal)
        ):
            raise NotFound("invoice_not_found", "no such invoice")
        return state

    async def _pay_from_wallet(
        self,
        state: Invoice,
        amount: int,
        *,
        payment_id: str,
        channel: PaymentChannel,
        reference: str,
        actor: str,
        kept_in_wallet: int = 0,
    ) -> Invoice:
        """Start the payment on the invoice (reserving the amount), then debit the wallet.

        The start is stored before the wallet is called, under the debit's key: whatever
        happens next (a timeout, a crash), `resume_payments` finds it and finishes it with
        the same key, so a debit is never left without its payment. Concurrent payments of
        one invoice conflict on its stream; only what is still due can be reserved.
        """
        if payment_id in state.payments:
            return state
        pending = state.pending_payment(payment_id)
        if pending is None:
            state = await self._run_invoice(
                state.invoice_id,
                domain.StartPayment(
                    now=self.clock.now(),
                    payment_id=payment_id,
                    channel=channel,
                    amount=amount,
                    reference=reference,
                    kept_in_wallet=kept_in_wallet,
                ),
                state.account_id,
                actor,
            )
            pending = state.pending_payment(payment_id)
            if pending is None:
                return state  # finished meanwhile by a concurrent copy of this request
        return await self._finish_payment(state, pending, actor)

    async def _finish_payment(
        self, state: Invoice, pending: domain.PendingPayment, actor: str
    ) -> Invoice:
        """Debit the wallet under the payment's key, then record (or abandon) the payment.

        Raises PaymentInProgress when the wallet's answer is unknown (timeout, outage): the
        payment stays started and is finished later with the same key.
        """
        try:
            # The same key, amount and reference every time: the wallet replays its first
            # answer (the debit or its refusal) to every later call.
            await self.wallet.debit(
                state.account_id,
                pending.amount,
                state.currency,
                state.proforma_number,
                key=pending.payment_id,
            )
        except DomainError as exc:  # the wallet refused: nothing was taken
            await self._abandon(state, pending, exc.code, actor)
            raise
        except ProblemError as exc:
            if exc.status_code >= 500 or exc.status_code in TRANSIENT_STATUSES:
                log.warning(
                    "wallet debit outcome unknown; payment left in progress",
                    invoice_id=state.invoice_id,
                    payment_id=pending.payment_id,
                    status=exc.status_code,
                )
                raise PaymentInProgress(state.invoice_id, pending.payment_id) from None
            await self._abandon(state, pending, exc.code, actor)
            raise
        failpoint("billing.payment.after_debit")  # crash tests: debited, not yet recorded
        return await self._run_invoice(
            state.invoice_id,
            domain.RecordPayment(
                now=self.clock.now(),
                payment_id=pending.payment_id,
                channel=pending.channel,
                amount=pending.amount,
                reference=pending.reference,
                kept_in_wallet=pending.kept_in_wallet,
            ),
            state.account_id,
            actor,
        )

    async def _abandon(
        self, state: Invoice, pending: domain.PendingPayment, reason: str, actor: str
    ) -> None:
        await self._run_invoice(
            state.invoice_id,
            domain.AbandonPayment(
                now=self.clock.now(), payment_id=pending.payment_id, reason=reason
            ),
            state.account_id,
            actor,
        )

    async def resume_payments(self) -> int:
        """Finish payments left in progress by a timeout or a crash (the periodic sweep).

        Each is finished with its own debit key: the wallet either replays the debit it
        made (the payment is recorded) or its refusal (the payment is abandoned), or makes
        the debit now if the first call never arrived. Returns how many were settled.
        """
        cutoff = self.clock.now() - timedelta(seconds=self.settings.payment_resume_after_seconds)
        settled = 0
        async for row in self.invoices_view.find(
            {"payment_in_progress_since": {"$lte": cutoff}}, {"_id": 1}
        ):
            state, _ = await self.invoices.load(domain.invoice_stream(row["_id"]))
            if not state.pending:
                # A row fed before the payment's last event: refresh it so the sweep stops
                # finding it (finishing a payment below refreshes the row itself).
                await self._refresh_invoice_views(
                    row["_id"], await self.store.read_stream(domain.invoice_stream(row["_id"]))
                )
            for pending in state.pending:
                if pending.started_at > cutoff:
                    continue  # its own request may still be waiting for the wallet
                try:
                    state = await self._finish_payment(state, pending, "payments")
                    settled += 1
                except PaymentInProgress:
                    pass  # the wallet is still unreachable: next sweep
                except DomainError as exc:
                    settled += 1
                    log.info(
                        "started payment refused", payment_id=pending.payment_id, code=exc.code
                    )
        return settled

    async def _resume_stale(self, state: Invoice) -> Invoice:
        """A new payment request on an invoice with a payment left behind: finish that first."""
        cutoff = self.clock.now() - timedelta(seconds=self.settings.payment_resume_after_seconds)
        for pending in state.pending:
            if pending.started_at <= cutoff:
                with contextlib.suppress(DomainError):
                    state = await self._finish_payment(state, pending, "payments")
        return state

    async def pay(
        self, principal: Principal, invoice_id: str, data: PayIn, key: str | None
    ) -> InvoiceOut:
        state = await self._load_invoice(principal, invoice_id)
        # Without a key each request is a payment of its own; the invoice's stream
        # serialises them, so together they never take more than is due.
        payment_id = (
            derived_id("pay", principal.account_id, invoice_id, key) if key else self.new_id()
        )
        if payment_id in state.payments:
            return await self.invoice(principal, invoice_id)  # the same request again
        own = state.pending_payment(payment_id)
        if own is not None:  # the same request again, its payment still unfinished
            await self._finish_payment(state, own, principal.user_id)
            return await self.invoice(principal, invoice_id)
        state = await self._resume_stale(state)
        if state.status not in domain.OPEN:
            raise Conflict("invoice_not_payable", f"the invoice is {state.status}")
        amount = data.amount if data.amount is not None else state.due - state.reserved
        if amount > state.due:
            raise DomainError(
                "amount_exceeds_due",
                "pay at most what is due; top up the wallet for more",
                amount_due=state.due,
            )
        if amount <= 0 and state.reserved:
            raise Conflict(
                "payment_in_progress",
                "another payment of this invoice is being processed; look again in a moment",
                amount_due=state.due,
                amount_in_progress=state.reserved,
            )
        if data.method == "wallet":
            await self._pay_from_wallet(
                state,
                amount,
                payment_id=payment_id,
                channel="wallet",
                reference=state.proforma_number,
                actor=principal.user_id,
            )
            return await self.invoice(principal, invoice_id)
        top_up = await self.wallet.top_up(
            state.account_id, amount, state.currency, data.method, key=payment_id
        )
        await update_by_id(
            self.provider_payments,
            top_up["id"],
            {"$set": {"invoice_id": invoice_id, "account_id": state.account_id}},
        )
        view = await self._invoice_view(invoice_id)
        view["payment_request"] = {
            "top_up_id": top_up["id"],
            "status": top_up.get("status"),
            "amount": top_up.get("amount"),
            "currency": top_up.get("currency"),
            "payment": top_up.get("payment"),
        }
        return InvoiceOut.model_validate(view)

    async def on_top_up_completed(self, event: TopUpCompleted) -> None:
        """A provider payment for an invoice arrived in the wallet: apply it to the invoice."""
        link = await self.provider_payments.find_one({"_id": event.top_up_id})
        if link is None:
            return  # an ordinary top-up
        state, _ = await self.invoices.load(domain.invoice_stream(link["invoice_id"]))
        payment_id = derived_id("top-up", event.top_up_id)
        pending = state.pending_payment(payment_id)
        if pending is not None:
            with contextlib.suppress(DomainError, PaymentInProgress):
                await self._finish_payment(state, pending, "payments")
            return
        if state.status not in domain.OPEN or payment_id in state.payments:
            return  # already settled: the money stays in the wallet as credit
        take = min(event.amount_received, state.due - state.reserved)
        if take <= 0:
            return  # another payment covers what is due: the money stays in the wallet
        try:
            await self._pay_from_wallet(
                state,
                take,
                payment_id=payment_id,
                channel="provider",
                reference=event.reference,
                actor="payments",
                kept_in_wallet=event.amount_received - take,
            )
        except DomainError as exc:
            log.warning("provider payment not applied", top_up_id=event.top_up_id, code=exc.code)
        except PaymentInProgress:
            pass  # started; the payment sweep finishes it with the same key

    async def cancel(self, principal: Principal, invoice_id: str) -> InvoiceOut:
        """The customer stops a (partly) paid order: what was paid goes to the wallet."""
        state = await self._load_invoice(principal, invoice_id)
        reason = "staff" if state.account_id != principal.account_id else "customer_stopped"
        await self._run_invoice(
            invoice_id,
            domain.CancelInvoice(now=self.clock.now(), reason=reason),
            state.account_id,
            principal.user_id,
        )
        return await self.invoice(principal, invoice_id)

    async def refund(self, principal: Principal, invoice_id: str, data: RefundIn) -> InvoiceOut:
        self._require_admin(principal)
        state = await self._load_invoice(principal, invoice_id)
        await self._run_invoice(
            invoice_id,
            domain.RefundInvoice(
                now=self.clock.now(),
                refund_id=self.new_id(),
                amount=data.amount,
                reason=data.reason,
            ),
            state.account_id,
            principal.user_id,
        )
        return await self.invoice(principal, invoice_id)

    # ------------------------------------------------------------ claims

    async def file_claim(
        self, principal: Principal, invoice_id: str, data: ClaimIn, key: str | None
    ) -> ClaimOut:
        state = await self._load_invoice(principal, invoice_id)
        proof = checked_proof(data.proof) if data.proof is not None else None
        claim_id = derived_id("claim", invoice_id, key) if key else self.new_id()
        now = self.clock.now()
        command = domain.FileClaim(
            now=now,
            claim_id=claim_id,
            reference=data.reference,
            amount=data.amount,
            paid_on=data.paid_on,
            proof_file_id=None,
            review_due_at=now + timedelta(hours=self.settings.claim_review_hours),
        )
        domain.decide_invoice(command, state)  # refuse before storing the file
        if proof is not None:
            stored = await self.blobs.put(
                proof.data, proof.content_type, proof.extension, state.account_id, now
            )
            command = replace(command, proof_file_id=stored.file_id)
        await self._run_invoice(invoice_id, command, state.account_id, principal.user_id)
        return await self.claim(principal, claim_id)

    async def decide_claim(
        self, principal: Principal, claim_id: str, approve: bool, reason: str
    ) -> ClaimOut:
        self._require_admin(principal)
        row = await self.claims_view.find_one({"_id": claim_id})
        if row is None:
            raise NotFound("claim_not_found", "no such payment claim")
        command: domain.InvoiceCommand
        if approve:
            command = domain.ApproveClaim(
                now=self.clock.now(),
                claim_id=claim_id,
                reviewer=principal.user_id,
                payment_id=derived_id("claim-payment", claim_id),
            )
        else:
            command = domain.RejectClaim(
                now=self.clock.now(), claim_id=claim_id, reviewer=principal.user_id, reason=reason
            )
        await self._run_invoice(row["invoice_id"], command, row["account_id"], principal.user_id)
        return await self.claim(principal, claim_id)

    async def claim(self, principal: Principal, claim_id: str) -> ClaimOut:
        row = await self.claims_view.find_one({"_id": claim_id})
        if row is None or (
            row["account_id"] != principal.account_id and not is_billing_admin(principal)
        ):
            raise NotFound("claim_not_found", "no such payment claim")
        return ClaimOut.model_validate(claim_out(row, self.clock.now()))

    async def list_claims(
        self, principal: Principal, status: str | None, overdue: bool, limit: int, offset: int
    ) -> ClaimsPage:
        query: dict[str, Any] = {}
        if not is_billing_admin(principal):
            query["account_id"] = principal.account_id
        if status:
            query["status"] = status
        now = self.clock.now()
        if overdue:
            query["status"] = "under_review"
            query["review_due_at"] = {"$lt": now}
        total = await self.claims_view.count_documents(query)
        cursor = self.claims_view.find(query).sort("filed_at", DESCENDING).skip(offset).limit(limit)
        rows = [ClaimOut.model_validate(claim_out(r, now)) async for r in cursor]
        return paginate(rows, total, limit, offset)

    async def proof(self, principal: Principal, claim_id: str) -> tuple[str, str, bytes]:
        claim = await self.claim(principal, claim_id)
        if not claim.proof_file_id:
            raise NotFound("proof_not_found", "this claim has no proof file")
        found = await self.blobs.get(claim.proof_file_id, claim.account_id)
        if found is None:
            raise NotFound("proof_not_found", "this claim has no proof file")
        stored, data = found
        return stored.content_type, stored.filename, data

    # ------------------------------------------------------------ what follows a fact

    async def _after_invoice(self, invoice_id: str, actor: str, outcome: Outcome[Invoice]) -> None:
        """Refresh the read models, then carry out what the new events call for."""
        events = await self.store.read_stream(domain.invoice_stream(invoice_id))
        await self._refresh_invoice_views(invoice_id, events)
        if outcome.commit is not None:
            for stored in outcome.commit.events:
                await self.follow_up(stored.event, actor)

    async def on_own_event(self, event: BillingEvent, actor: str) -> None:
        """billing.events, at least once: the read models, then the consequences.

        The lists are refreshed inline after each command too; this is the path a crash
        cannot skip (the event was stored, so it is relayed and comes back here).
        """
        invoice_id = getattr(event, "invoice_id", None)
        if isinstance(invoice_id, str):
            events = await self.store.read_stream(domain.invoice_stream(invoice_id))
            await self._refresh_invoice_views(invoice_id, events)
        elif isinstance(getattr(event, "subscription_id", None), str):
            await self._refresh_subscription_view(event.subscription_id)  # type: ignore[attr-defined]
        await self.follow_up(event, actor)

    async def follow_up(self, event: BillingEvent, actor: str = "billing") -> None:
        """Idempotent consequences of billing's own events (also run from billing.events)."""
        if isinstance(event, InvoicePaymentRecorded) and event.credited_to_wallet > 0:
            await self._credit(
                derived_id("excess", event.payment_id),
                event.account_id,
                event.credited_to_wallet,
                event.currency,
                "overpayment",
                f"invoice {event.invoice_id}",
            )
        elif isinstance(event, InvoiceCancelled) and event.refunded_to_wallet > 0:
            await self._credit(
                derived_id("cancelled", event.invoice_id),
                event.account_id,
                event.refunded_to_wallet,
                event.currency,
                "order_cancelled",
                f"order {event.order_id}",
            )
        elif isinstance(event, InvoiceRefunded):
            await self._credit(
                derived_id("refund", event.refund_id),
                event.account_id,
                event.amount,
                event.currency,
                "refund",
                f"invoice {event.invoice_number}",
            )
        elif isinstance(event, InvoicePaid):
            await self._fulfil(event, actor)

    async def _credit(
        self, key: str, account_id: str, amount: int, currency: str, reason: str, reference: str
    ) -> None:
        """Money owed to the customer's wallet, credited at least once in effect exactly once.

        The credit is written down first; if the wallet cannot be reached it stays pending
        and `retry_credits` (a periodic sweep) takes it again with the same key.
        """
        pending = {
            "account_id": account_id,
            "amount": amount,
            "currency": currency,
            "reason": reason,
            "reference": reference,
            "since": self.clock.now(),
        }
        with contextlib.suppress(DuplicateKeyError):
            await self.pending_credits.insert_one({"_id": key, **pending})
        await self._send_credit(key, pending)

    async def _send_credit(self, key: str, credit: dict[str, Any]) -> bool:
        try:
            await self.wallet.credit(
                credit["account_id"],
                credit["amount"],
                credit["currency"],
                credit["reason"],
                credit["reference"],
                key=key,
            )
        except ProblemError as exc:
            log.warning("wallet credit pending", key=key, status=exc.status_code)
            return False
        await self.pending_credits.delete_one({"_id": key})
        return True

    async def retry_credits(self) -> int:
        """Send the credits the wallet did not take yet; returns how many went through."""
        sent = 0
        async for credit in self.pending_credits.find({}):
            sent += await self._send_credit(credit.pop("_id"), credit)
        return sent

    async def _fulfil(self, paid: InvoicePaid, actor: str) -> None:
        events = await self.store.read_stream(domain.invoice_stream(paid.invoice_id))
        issued = next(e.event for e in events if isinstance(e.event, InvoiceIssued))
        assert isinstance(issued, InvoiceIssued)
        stream = domain.subscription_stream(paid.subscription_id)
        sub, _ = await self.subscriptions.load(stream)
        if paid.invoice_id in sub.invoices:
            return
        now, today = paid.occurred_at, paid.occurred_at.date()
        plan = await self.plan(issued.plan_id)
        command: domain.SubscriptionCommand
        if issued.order_kind == "new":
            if sub.status != "none":
                return
            command = domain.StartSubscription(
                now=now,
                today=today,
                subscription_id=paid.subscription_id,
                account_id=paid.account_id,
                contract_number=await self._number("HD"),
                invoice_id=paid.invoice_id,
                plan=plan,
                months=issued.months,
                amount=issued.total,
            )
        elif issued.order_kind == "renewal":
            command = domain.RenewSubscription(
                now=now,
                today=today,
                invoice_id=paid.invoice_id,
                months=issued.months,
                amount=issued.total,
            )
        else:
            command = domain.ApplyUpgrade(
                now=now,
                today=today,
                invoice_id=paid.invoice_id,
                plan=plan,
                credit=issued.upgrade_credit,
                charge=issued.total,
            )
        try:
            await self._run_subscription(paid.subscription_id, command, paid.account_id, actor)
        except DomainError as exc:
            # Paid but not applicable (e.g. a second upgrade to the same tier): refund it.
            log.warning("paid order not applicable, refunding", code=exc.code)
            await self._run_invoice(
                paid.invoice_id,
                domain.RefundInvoice(
                    now=now,
                    refund_id=derived_id("not-applicable", paid.invoice_id),
                    amount=paid.amount_spent,
                    reason=f"order could not be applied: {exc.detail}",
                ),
                paid.account_id,
                actor,
            )

    async def _run_subscription(
        self, subscription_id: str, command: domain.SubscriptionCommand, account_id: str, actor: str
    ) -> Subscription:
        outcome = await self.subscriptions.run(
            domain.subscription_stream(subscription_id),
            command,
            metadata=self._meta(account_id, actor),
        )
        if outcome.commit is not None:
            await self._refresh_subscription_view(subscription_id)
        return outcome.state

    async def expiry_check(self, principal: Principal) -> ExpiryCheckOut:
        """The scheduler's step run by hand (billing admins only)."""
        if not is_billing_admin(principal):
            raise Forbidden("forbidden", "only billing admins run the scheduler by hand")
        return ExpiryCheckOut(changed=await self.check_expiry())

    async def check_expiry(self) -> int:
        """The scheduler's step: notices at <= N days left, automatic renewals issued with
        them, expiry at the end date."""
        notice_until = self._today() + timedelta(days=self.settings.expiry_notice_days)
        changed = 0
        async for row in self.subscriptions_view.find(
            {"status": "active", "ends_on": {"$lte": notice_until.isoformat()}}
        ):
            state = await self._run_subscription(
                row["_id"],
                domain.CheckExpiry(
                    now=self.clock.now(),
                    today=self._today(),
                    notice_days=self.settings.expiry_notice_days,
                ),
                row["account_id"],
                "scheduler",
            )
            changed += state.status != row["status"] or state.expiring_notice_for is not None
            if domain.auto_renewal_due(state, self._today(), self.settings.expiry_notice_days):
                await self._auto_renew(state)
        return changed

    async def _auto_renew(self, sub: Subscription) -> None:
        """This term's renewal invoice, issued once: its id is derived from the term."""
        assert sub.ends_on is not None and sub.auto_renew_months is not None
        invoice_id = derived_id("auto-renew", sub.subscription_id, sub.ends_on.isoformat())
        known, _ = await self.invoices.load(domain.invoice_stream(invoice_id))
        if known.status != "none":
            return  # issued on an earlier sweep (paid, open or cancelled by the customer)
        months = sub.auto_renew_months
        try:
            plan = await self.plan(sub.plan_id)
            if plan.status != "active":
                raise DomainError("plan_not_available", "the plan is retired")
            price = plan.price(months)
            await self._open_change(sub.subscription_id)  # a renewal the customer started
        except DomainError as exc:
            log.info("auto-renewal skipped", subscription_id=sub.subscription_id, code=exc.code)
            return
        base = domain.renewal_base(sub, self._today())
        lines = order_lines(plan, months, price, f" (automatic renewal from {base.isoformat()})")
        await self._issue(
            account_id=sub.account_id,
            actor="auto-renew",
            invoice_id=invoice_id,
            order_kind="renewal",
            subscription_id=sub.subscription_id,
            plan=plan,
            months=months,
            lines=lines,
        )

    async def set_auto_renew(
        self, principal: Principal, subscription_id: str, enabled: bool, months: int | None
    ) -> SubscriptionOut:
        sub = await self._own_subscription(principal, subscription_id)
        plan = await self.plan(sub.plan_id)
        if enabled and plan.status != "active":
            raise DomainError("plan_not_available", "this plan is retired; order a current one")
        state = await self._run_subscription(
            subscription_id,
            domain.SetAutoRenew(
                now=self.clock.now(),
                months=(months or sub.last_months or 1) if enabled else None,
                allowed_months=tuple(p.months for p in plan.periods),
                actor=principal.user_id,
            ),
            sub.account_id,
            principal.user_id,
        )
        result = SubscriptionOut.model_validate(
            {"id": subscription_id, **subscription_row(state, self._today())}
        )
        # This term may already be inside the notice window: renew now, not next sweep.
        if domain.auto_renewal_due(state, self._today(), self.settings.expiry_notice_days):
            await self._auto_renew(state)
        return result

    # ------------------------------------------------------------ read models

    async def _refresh_invoice_views(self, invoice_id: str, events: list[StoredEvent]) -> None:
        row, claims = invoice_row(events)
        if not row:
            return
        version = events[-1].version
        await upsert_if_newer(self.invoices_view, invoice_id, version, row)
        for claim in claims:
            await upsert_if_newer(self.claims_view, claim["claim_id"], version, claim)
        if row.get("invoice_number"):
            await update_by_id(
                self.codes,
                row["invoice_number"],
                {"$set": {"account_id": row["account_id"], "kind": "invoice", "id": invoice_id}},
            )

    async def _refresh_subscription_view(self, subscription_id: str) -> None:
        state, version = await self.subscriptions.load(domain.subscription_stream(subscription_id))
        row = subscription_row(state)
        await upsert_if_newer(self.subscriptions_view, subscription_id, version, row)
        await update_by_id(
            self.codes,
            state.contract_number,
            {"$set": {"account_id": state.account_id, "kind": "contract", "id": subscription_id}},
        )

    async def invoice(self, principal: Principal, invoice_id: str) -> InvoiceOut:
        await self._load_invoice(principal, invoice_id)  # 404 unless the caller may see it
        return InvoiceOut.model_validate(await self._invoice_view(invoice_id))

    async def _invoice_view(self, invoice_id: str) -> dict[str, Any]:
        """The invoice with its claims, folded from its events (the caller may see it)."""
        events = await self.store.read_stream(domain.invoice_stream(invoice_id))
        row, claims = invoice_row(events)
        row["claims"] = [claim_out(c, self.clock.now()) for c in claims]
        return {"id": invoice_id, **row}

    async def invoice_pdf(self, principal: Principal, invoice_id: str) -> tuple[bytes, str]:
        """The invoice as a PDF and its file name (the invoice number once it is paid)."""
        await self._load_invoice(principal, invoice_id)
        invoice = await self._invoice_view(invoice_id)
        number = invoice["invoice_number"] or invoice["proforma_number"]
        # fpdf2 is CPU-bound (tens of ms with a TrueType font): off the event loop
        pdf = await asyncio.to_thread(
            render_invoice_pdf, invoice, self.settings.company_name, self.pdf_fonts
        )
        return pdf, f"{number}.pdf"

    async def list_invoices(
        self,
        principal: Principal,
        *,
        status: str | None,
        kind: str | None,
        limit: int,
        offset: int,
    ) -> InvoicesPage:
        query: dict[str, Any] = {}
        if not is_billing_admin(principal):
            query["account_id"] = principal.account_id
        if status:
            query["status"] = status
        if kind:
            query["order_kind"] = kind
        total = await self.invoices_view.count_documents(query)
        cursor = self.invoices_view.find(query).sort("issued_at", DESCENDING)
        rows = [
            InvoiceRowOut.model_validate({"id": r.pop("_id"), **without(r, "version")})
            async for r in cursor.skip(offset).limit(limit)
        ]
        return paginate(rows, total, limit, offset)

    async def subscription(self, principal: Principal, subscription_id: str) -> SubscriptionOut:
        state = await self._own_subscription(principal, subscription_id)
        return SubscriptionOut.model_validate(
            {"id": subscription_id, **subscription_row(state, self._today())}
        )

    async def list_subscriptions(
        self, principal: Principal, *, status: str | None, limit: int, offset: int
    ) -> SubscriptionsPage:
        query: dict[str, Any] = {}
        if not is_billing_admin(principal):
            query["account_id"] = principal.account_id
        if status:
            query["status"] = status
        total = await self.subscriptions_view.count_documents(query)
        cursor = self.subscriptions_view.find(query).sort("starts_on", DESCENDING)
        today = self._today()
        rows = []
        async for r in cursor.skip(offset).limit(limit):
            r["id"] = r.pop("_id")
            r.pop("version", None)
            r["days_left"] = (date.fromisoformat(r["ends_on"]) - today).days
            rows.append(SubscriptionOut.model_validate(r))
        return paginate(rows, total, limit, offset)

    async def contract(self, principal: Principal, subscription_id: str) -> ContractOut:
        return ContractOut.model_validate(await self._contract_view(principal, subscription_id))

    async def _contract_view(self, principal: Principal, subscription_id: str) -> dict[str, Any]:
        state = await self._own_subscription(principal, subscription_id)
        events = await self.store.read_stream(domain.subscription_stream(subscription_id))
        history = [contract_entry(e.event) for e in events]
        return {
            "id": subscription_id,
            **subscription_row(state, self._today()),
            "history": [h for h in history if h],
        }

    async def contract_document(
        self, principal: Principal, subscription_id: str, document: str
    ) -> ContractDocument:
        """The contract's terms or its order confirmation, as a PDF or an HTML page."""
        if document not in CONTRACT_DOCUMENTS:
            raise NotFound(
                "document_not_found",
                "documents are terms.pdf, terms.html, confirmation.pdf, confirmation.html",
            )
        kind, fmt = CONTRACT_DOCUMENTS[document]
        contract = await self._contract_view(principal, subscription_id)
        company = self.settings.company_name
        if fmt == "html":
            return ContractDocument(render_html(kind, contract, company), "text/html", None)
        # fpdf2 is CPU-bound (tens of ms with a TrueType font): off the event loop
        pdf = await asyncio.to_thread(render_pdf, kind, contract, company, self.pdf_fonts)
        filename = f"{contract['contract_number']}-{kind}.pdf"
        return ContractDocument(pdf, "application/pdf", filename)

    async def code(self, principal: Principal, code: str) -> CodeOut:
        """Is `code` an order, invoice or contract number of the caller's account?"""
        row = await self.codes.find_one({"_id": code.strip().upper()})
        if (
            row is None
            or row.get("kind") not in ("order", "invoice", "contract")
            or (row["account_id"] != principal.account_id and not principal.is_staff)
        ):
            raise NotFound("code_not_found", "no order, invoice or contract has this code")
        return CodeOut(code=row["_id"], kind=row["kind"], account_id=row["account_id"])

    # ------------------------------------------------------------ account settings

    async def _auto_pay_enabled(self, account_id: str) -> bool:
        state, _ = await self.accounts.load(domain.account_stream(account_id))
        return state.auto_pay

    async def settings_of(self, principal: Principal) -> SettingsOut:
        return SettingsOut(auto_pay=await self._auto_pay_enabled(principal.account_id))

    async def set_auto_pay(self, principal: Principal, enabled: bool) -> SettingsOut:
        if not principal.manages_account:
            raise Forbidden("forbidden", "only the account owner or an admin changes this")
        await self.accounts.run(
            domain.account_stream(principal.account_id),
            domain.SetAutoPay(
                now=self.clock.now(),
                account_id=principal.account_id,
                enabled=enabled,
                actor=principal.user_id,
            ),
            metadata=self._meta(principal.account_id, principal.user_id),
        )
        return await self.settings_of(principal)
