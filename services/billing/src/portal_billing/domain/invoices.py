"""Invoices (stream `invoice-<id>`): an order's invoice, its payments, claims, refunds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from portal_billing.domain.catalogue import (
    Plan,
)
from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.billing import (
    BillingEvent,
    InvoiceCancelled,
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
    InvoicePaymentAbandoned,
    InvoicePaymentRecorded,
    InvoicePaymentStarted,
    InvoiceRefunded,
    OrderKind,
    PaymentChannel,
    PaymentClaimApproved,
    PaymentClaimFiled,
    PaymentClaimRejected,
)

InvoiceStatus = Literal["none", "unpaid", "partially_paid", "paid", "cancelled"]
OPEN = ("unpaid", "partially_paid")


class Claim(BaseModel):
    model_config = ConfigDict(frozen=True)
    claim_id: str
    status: Literal["under_review", "approved", "rejected"]
    amount: int
    reference: str


class PendingPayment(BaseModel):
    """A wallet payment started but not yet recorded: its amount is reserved."""

    model_config = ConfigDict(frozen=True)
    payment_id: str
    channel: PaymentChannel
    amount: int
    reference: str
    kept_in_wallet: int = 0
    started_at: datetime


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
    upgrade_credit: int = 0
    upgrade_extension: int = 0
    trial_days: int = 0
    paid: int = 0
    refunded: int = 0
    currency: str = "VND"
    payments: tuple[str, ...] = ()
    refunds: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()
    pending: tuple[PendingPayment, ...] = ()

    @property
    def due(self) -> int:
        return self.total - self.paid if self.status in OPEN else 0

    @property
    def reserved(self) -> int:
        """What payments in progress will take: not payable again until they end."""
        return sum(p.amount for p in self.pending)

    def pending_payment(self, payment_id: str) -> PendingPayment | None:
        return next((p for p in self.pending if p.payment_id == payment_id), None)

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
    upgrade_extension: int = 0
    """Of the total, what buys `months` more with an upgrade."""
    trial_days: int = 0
    """A trial order: free, no months bought."""


@dataclass(frozen=True)
class StartPayment:
    """Reserve part of the due before the wallet is debited under `payment_id`."""

    now: datetime
    payment_id: str
    channel: PaymentChannel
    amount: int
    reference: str
    kept_in_wallet: int = 0


@dataclass(frozen=True)
class AbandonPayment:
    """The wallet refused the started payment's debit: release the reservation."""

    now: datetime
    payment_id: str
    reason: str


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
    | StartPayment
    | AbandonPayment
    | RecordPayment
    | CancelInvoice
    | FileClaim
    | ApproveClaim
    | RejectClaim
    | RefundInvoice
)


class InvoiceNumberNeeded(DomainError):
    """A command that completes the invoice came without its number. A use case never
    lets this happen: it asks `needs_invoice_number` and allocates the number first."""

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


def _start_payment(command: StartPayment, state: Invoice) -> list[BillingEvent]:
    if command.payment_id in state.payments or state.pending_payment(command.payment_id):
        return []  # the same payment again: it goes on from where it is
    if state.status not in OPEN:
        raise Conflict("invoice_not_payable", f"the invoice is {state.status}")
    if command.amount <= 0:
        raise DomainError("amount_not_positive", "a payment is greater than zero")
    payable = state.due - state.reserved
    if command.amount > payable:
        if state.reserved:
            raise Conflict(
                "payment_in_progress",
                "another payment of this invoice is being processed; look again in a moment",
                amount_due=state.due,
                amount_in_progress=state.reserved,
            )
        raise DomainError(
            "amount_exceeds_due",
            "pay at most what is due; top up the wallet for more",
            amount_due=state.due,
        )
    return [
        InvoicePaymentStarted(
            occurred_at=command.now,
            account_id=state.account_id,
            invoice_id=state.invoice_id,
            payment_id=command.payment_id,
            channel=command.channel,
            amount=command.amount,
            currency=state.currency,
            reference=command.reference,
            kept_in_wallet=command.kept_in_wallet,
        )
    ]


def decide_invoice(command: InvoiceCommand, state: Invoice) -> Sequence[BillingEvent]:
    match command:
        case IssueInvoice():
            return _issue(command, state)
    if state.status == "none":
        raise NotFound("invoice_not_found", "no such invoice")
    match command:
        case StartPayment():
            return _start_payment(command, state)
        case AbandonPayment():
            return _abandon_payment(command, state)
        case RecordPayment():
            return _record_payment(command, state)
        case CancelInvoice():
            return _cancel(command, state)
        case FileClaim():
            return _file_claim(command, state)
        case ApproveClaim():
            return _approve_claim(command, state)
        case RejectClaim():
            return _reject_claim(command, state)
        case RefundInvoice():
            return _refund(command, state)
    raise TypeError(f"unknown command {command!r}")


def needs_invoice_number(command: InvoiceCommand, state: Invoice) -> bool:
    """Would deciding `command` on `state` complete the invoice (so it needs its number)?

    The use case asks this before deciding and allocates the number up front."""
    match command:
        case IssueInvoice():
            return state.status == "none" and sum(line.amount for line in command.lines) == 0
        case RecordPayment():
            return command.payment_id not in state.payments and _completes(state, command.amount)
        case ApproveClaim():
            claim = next((c for c in state.claims if c.claim_id == command.claim_id), None)
            return (
                claim is not None
                and claim.status == "under_review"
                and _completes(state, claim.amount)
            )
    return False


def _completes(state: Invoice, amount: int) -> bool:
    return state.status in OPEN and 0 < min(amount, state.due) == state.due


def _issue(command: IssueInvoice, state: Invoice) -> list[BillingEvent]:
    if state.status != "none":
        return []
    total = sum(line.amount for line in command.lines)
    if total < 0:
        raise DomainError("negative_total", "an invoice total is never negative")
    if not 0 <= command.upgrade_extension <= total:
        raise DomainError("extension_invalid", "the months bought are part of the total")
    if command.trial_days and (
        command.order_kind != "new" or total != 0 or command.months != 0 or command.trial_days < 0
    ):
        raise DomainError("trial_invalid", "a trial is a new order of no months that costs nothing")
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
        upgrade_extension=command.upgrade_extension,
        trial_days=command.trial_days,
    )
    if total > 0:
        return [issued]
    if not command.invoice_number:
        raise InvoiceNumberNeeded()
    return [issued, _paid(evolve_invoice(state, issued), command.now, command.invoice_number)]


def _abandon_payment(command: AbandonPayment, state: Invoice) -> list[BillingEvent]:
    if state.pending_payment(command.payment_id) is None:
        return []  # recorded or abandoned already
    return [
        InvoicePaymentAbandoned(
            occurred_at=command.now,
            account_id=state.account_id,
            invoice_id=state.invoice_id,
            payment_id=command.payment_id,
            reason=command.reason,
        )
    ]


def _record_payment(command: RecordPayment, state: Invoice) -> list[BillingEvent]:
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


def _cancel(command: CancelInvoice, state: Invoice) -> list[BillingEvent]:
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


def _file_claim(command: FileClaim, state: Invoice) -> list[BillingEvent]:
    if state.status not in OPEN:
        raise Conflict("invoice_not_payable", f"the invoice is {state.status}")
    if command.amount <= 0:
        raise DomainError("amount_not_positive", "the amount paid is greater than zero")
    if any(c.claim_id == command.claim_id for c in state.claims):
        return []
    if any(c.reference == command.reference and c.status == "under_review" for c in state.claims):
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


def _approve_claim(command: ApproveClaim, state: Invoice) -> list[BillingEvent]:
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


def _reject_claim(command: RejectClaim, state: Invoice) -> list[BillingEvent]:
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


def _refund(command: RefundInvoice, state: Invoice) -> list[BillingEvent]:
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
            upgrade_credit=event.upgrade_credit,
            upgrade_extension=event.upgrade_extension,
            trial_days=event.trial_days,
            currency=event.currency,
        )
    if isinstance(event, InvoicePaymentRecorded):
        paid = state.paid + event.applied
        status: InvoiceStatus = state.status
        if state.status in OPEN and event.applied > 0:
            status = "partially_paid"
        return state.model_copy(
            update={
                "paid": paid,
                "status": status,
                "payments": (*state.payments, event.payment_id),
                "pending": tuple(p for p in state.pending if p.payment_id != event.payment_id),
            }
        )
    if isinstance(event, InvoicePaymentStarted):
        started = PendingPayment(
            payment_id=event.payment_id,
            channel=event.channel,
            amount=event.amount,
            reference=event.reference,
            kept_in_wallet=event.kept_in_wallet,
            started_at=event.occurred_at,
        )
        return state.model_copy(update={"pending": (*state.pending, started)})
    if isinstance(event, InvoicePaymentAbandoned):
        return state.model_copy(
            update={"pending": tuple(p for p in state.pending if p.payment_id != event.payment_id)}
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
    state_version=2,  # 2: upgrade_credit
)
