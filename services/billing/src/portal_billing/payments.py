"""Paying an invoice from the wallet or through a provider, cancelling and refunding.

Paying from the wallet is a small saga: the payment is started on the invoice (reserving
the amount), the wallet is debited under an Idempotency-Key derived from the payment (a
refusal changes nothing here), then the payment is recorded on the invoice. A crash
between the two is healed by the same request retried (same key, the wallet replays),
by the payment sweep, or, for provider payments, by the redelivered wallet event.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from portal_billing import (
    domain,
    queries,
    streams,
)
from portal_billing.deps import (
    ADMINS,
    Deps,
    PaymentInProgress,
    derived_id,
)
from portal_billing.domain import Invoice
from portal_billing.models import (
    InvoiceOut,
    PayIn,
    RefundIn,
    SettingsOut,
)
from portal_billing.wallet import WalletUnavailable
from portal_chassis.auth import Principal
from portal_chassis.decider import Conflict, DomainError, Forbidden
from portal_chassis.faults import failpoint
from portal_chassis.logging import get_logger
from portal_chassis.mongo import update_by_id
from portal_chassis.usecases import meta
from portal_contracts.events.billing import (
    PaymentChannel,
)
from portal_contracts.events.wallet import TopUpCompleted

log = get_logger(__name__)


async def pay_from_wallet(
    deps: Deps,
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
        state = await streams.run_invoice(
            deps,
            state.invoice_id,
            domain.StartPayment(
                now=deps.clock.now(),
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
    return await finish_payment(deps, state, pending, actor)


async def finish_payment(
    deps: Deps, state: Invoice, pending: domain.PendingPayment, actor: str
) -> Invoice:
    """Debit the wallet under the payment's key, then record (or abandon) the payment.

    Raises PaymentInProgress when the wallet's answer is unknown (timeout, outage): the
    payment stays started and is finished later with the same key.
    """
    try:
        # The same key, amount and reference every time: the wallet replays its first
        # answer (the debit or its refusal) to every later call.
        await deps.wallet.debit(
            state.account_id,
            pending.amount,
            state.currency,
            state.proforma_number,
            key=pending.payment_id,
        )
    except WalletUnavailable as exc:
        log.warning(
            "wallet debit outcome unknown; payment left in progress",
            invoice_id=state.invoice_id,
            payment_id=pending.payment_id,
            status=exc.wallet_status,
        )
        raise PaymentInProgress(state.invoice_id, pending.payment_id) from None
    except DomainError as exc:  # the wallet said no (WalletRefused): nothing was taken
        await _abandon(deps, state, pending, exc.code, actor)
        raise
    failpoint("billing.payment.after_debit")  # crash tests: debited, not yet recorded
    return await streams.run_invoice(
        deps,
        state.invoice_id,
        domain.RecordPayment(
            now=deps.clock.now(),
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
    deps: Deps, state: Invoice, pending: domain.PendingPayment, reason: str, actor: str
) -> None:
    await streams.run_invoice(
        deps,
        state.invoice_id,
        domain.AbandonPayment(now=deps.clock.now(), payment_id=pending.payment_id, reason=reason),
        state.account_id,
        actor,
    )


async def resume_payments(deps: Deps) -> int:
    """Finish payments left in progress by a timeout or a crash (the periodic sweep).

    Each is finished with its own debit key: the wallet either replays the debit it
    made (the payment is recorded) or its refusal (the payment is abandoned), or makes
    the debit now if the first call never arrived. Returns how many were settled.
    """
    cutoff = deps.clock.now() - timedelta(seconds=deps.settings.payment_resume_after_seconds)
    settled = 0
    async for row in deps.invoices_view.find(
        {"payment_in_progress_since": {"$lte": cutoff}}, {"_id": 1}
    ):
        state, _ = await deps.invoices.load(domain.invoice_stream(row["_id"]))
        if not state.pending:
            # A row fed before the payment's last event: refresh it so the sweep stops
            # finding it (finishing a payment below refreshes the row itself).
            await streams.refresh_invoice_views(
                deps, row["_id"], await deps.store.read_stream(domain.invoice_stream(row["_id"]))
            )
        for pending in state.pending:
            if pending.started_at > cutoff:
                continue  # its own request may still be waiting for the wallet
            try:
                state = await finish_payment(deps, state, pending, "payments")
                settled += 1
            except PaymentInProgress:
                pass  # the wallet is still unreachable: next sweep
            except DomainError as exc:
                settled += 1
                log.info("started payment refused", payment_id=pending.payment_id, code=exc.code)
    return settled


async def _resume_stale(deps: Deps, state: Invoice) -> Invoice:
    """A new payment request on an invoice with a payment left behind: finish that first."""
    cutoff = deps.clock.now() - timedelta(seconds=deps.settings.payment_resume_after_seconds)
    for pending in state.pending:
        if pending.started_at <= cutoff:
            with contextlib.suppress(DomainError):
                state = await finish_payment(deps, state, pending, "payments")
    return state


async def pay(
    deps: Deps, principal: Principal, invoice_id: str, data: PayIn, key: str | None
) -> InvoiceOut:
    state = await streams.load_invoice(deps, principal, invoice_id)
    # Without a key each request is a payment of its own; the invoice's stream
    # serialises them, so together they never take more than is due.
    payment_id = derived_id("pay", principal.account_id, invoice_id, key) if key else deps.new_id()
    if payment_id in state.payments:
        return await queries.invoice_answer(deps, invoice_id)  # the same request again
    own = state.pending_payment(payment_id)
    if own is not None:  # the same request again, its payment still unfinished
        await finish_payment(deps, state, own, principal.user_id)
        return await queries.invoice_answer(deps, invoice_id)
    state = await _resume_stale(deps, state)
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
        await pay_from_wallet(
            deps,
            state,
            amount,
            payment_id=payment_id,
            channel="wallet",
            reference=state.proforma_number,
            actor=principal.user_id,
        )
        return await queries.invoice_answer(deps, invoice_id)
    top_up = await deps.wallet.top_up(
        state.account_id, amount, state.currency, data.method, key=payment_id
    )
    await update_by_id(
        deps.provider_payments,
        top_up["id"],
        {"$set": {"invoice_id": invoice_id, "account_id": state.account_id}},
    )
    view = await queries.invoice_view(deps, invoice_id)
    view["payment_request"] = {
        "top_up_id": top_up["id"],
        "status": top_up.get("status"),
        "amount": top_up.get("amount"),
        "currency": top_up.get("currency"),
        "payment": top_up.get("payment"),
    }
    return InvoiceOut.model_validate(view)


async def on_top_up_completed(deps: Deps, event: TopUpCompleted) -> None:
    """A provider payment for an invoice arrived in the wallet: apply it to the invoice."""
    link = await deps.provider_payments.find_one({"_id": event.top_up_id})
    if link is None:
        return  # an ordinary top-up
    state, _ = await deps.invoices.load(domain.invoice_stream(link["invoice_id"]))
    payment_id = derived_id("top-up", event.top_up_id)
    pending = state.pending_payment(payment_id)
    if pending is not None:
        with contextlib.suppress(DomainError, PaymentInProgress):
            await finish_payment(deps, state, pending, "payments")
        return
    if state.status not in domain.OPEN or payment_id in state.payments:
        return  # already settled: the money stays in the wallet as credit
    take = min(event.amount_received, state.due - state.reserved)
    if take <= 0:
        return  # another payment covers what is due: the money stays in the wallet
    try:
        await pay_from_wallet(
            deps,
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


async def cancel(deps: Deps, principal: Principal, invoice_id: str) -> InvoiceOut:
    """The customer stops a (partly) paid order: what was paid goes to the wallet."""
    state = await streams.load_invoice(deps, principal, invoice_id)
    reason = "staff" if state.account_id != principal.account_id else "customer_stopped"
    await streams.run_invoice(
        deps,
        invoice_id,
        domain.CancelInvoice(now=deps.clock.now(), reason=reason),
        state.account_id,
        principal.user_id,
    )
    return await queries.invoice_answer(deps, invoice_id)


async def refund(deps: Deps, principal: Principal, invoice_id: str, data: RefundIn) -> InvoiceOut:
    ADMINS.require(principal)
    state = await streams.load_invoice(deps, principal, invoice_id)
    await streams.run_invoice(
        deps,
        invoice_id,
        domain.RefundInvoice(
            now=deps.clock.now(),
            refund_id=deps.new_id(),
            amount=data.amount,
            reason=data.reason,
        ),
        state.account_id,
        principal.user_id,
    )
    return await queries.invoice_answer(deps, invoice_id)


async def set_auto_pay(deps: Deps, principal: Principal, enabled: bool) -> SettingsOut:
    await _run_account(
        deps,
        principal,
        domain.SetAutoPay(deps.clock.now(), principal.account_id, enabled, principal.user_id),
    )
    return await queries.settings_of(deps, principal)


async def set_sector(deps: Deps, principal: Principal, sector: str) -> SettingsOut:
    """The account's business sector: the plans suited to it are suggested first."""
    await _run_account(
        deps,
        principal,
        domain.SetSector(deps.clock.now(), principal.account_id, sector, principal.user_id),
    )
    return await queries.settings_of(deps, principal)


async def _run_account(deps: Deps, principal: Principal, command: domain.AccountCommand) -> None:
    if not principal.manages_account:
        raise Forbidden("forbidden", "only the account owner or an admin changes this")
    await deps.accounts.run(
        domain.account_stream(principal.account_id),
        command,
        metadata=meta(principal.account_id, principal.user_id),
    )
