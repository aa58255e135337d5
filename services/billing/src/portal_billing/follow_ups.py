"""What follows billing's own facts: start or extend the subscription, credit money owed
back to the wallet. Every step is idempotent (keys derived from the fact).

A fact's follow-up runs once, in one place: right after the command that stored it
(`follow_up_once`, which claims the fact first). billing.events only feeds the read models
and takes over a fact that no command claimed (the process died right after the append);
a claim left unfinished by a crash is taken over by `resume_follow_ups` (a periodic sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from portal_billing import (
    domain,
    streams,
)
from portal_billing.deps import (
    Deps,
    derived_id,
    number,
)
from portal_billing.wallet import WalletRefused, WalletUnavailable
from portal_chassis.decider import DomainError
from portal_chassis.eventstore import StoredEvent
from portal_chassis.logging import get_logger
from portal_contracts.events.billing import (
    BillingEvent,
    InvoiceCancelled,
    InvoicePaid,
    InvoicePaymentRecorded,
    InvoiceRefunded,
)

log = get_logger(__name__)


CLAIM_LEASE = timedelta(minutes=2)
"""A claimed follow-up not finished after this was left by a crash: the sweep takes it."""
WAIT_FOR_COMMAND = (0.05, 0.1, 0.25, 0.5, 1.0)
"""billing.events can deliver a fact before its command claimed it: give it this long."""


async def on_own_event(deps: Deps, stored: StoredEvent, actor: str) -> None:
    """billing.events, at least once: the read models; a follow-up only if no command
    claimed it (the process died between the append and its follow-up).

    The lists are refreshed inline after each command too; this is the path a crash
    cannot skip (the event was stored, so it is relayed and comes back here). The event is
    folded onto the invoice's row: the stream is read only when the row does not reach
    up to it (a row a crash left behind), at most once per event.
    """
    event = stored.event
    assert isinstance(event, BillingEvent)
    invoice_id = getattr(event, "invoice_id", None)
    if isinstance(invoice_id, str):
        await streams.refresh_invoice_views(deps, invoice_id, [stored])
    elif isinstance(getattr(event, "subscription_id", None), str):
        await streams.refresh_subscription_view(deps, event.subscription_id)  # type: ignore[attr-defined]
    key = fact_key(event)
    if key is None:
        return
    for pause in WAIT_FOR_COMMAND:
        if await deps.followed_up.find_one({"_id": key}, {"_id": 1}):
            return  # its command claimed it (and carries it out, or the sweep will)
        await asyncio.sleep(pause)
    await follow_up_once(deps, event, actor)


def fact_key(event: BillingEvent) -> str | None:
    """The key of what a fact calls for (None: nothing), shared by its claim and its
    wallet credit, so a retry is recognised by both."""
    if isinstance(event, InvoicePaymentRecorded) and event.credited_to_wallet > 0:
        return derived_id("excess", event.payment_id)
    if isinstance(event, InvoiceCancelled) and event.refunded_to_wallet > 0:
        return derived_id("cancelled", event.invoice_id)
    if isinstance(event, InvoiceRefunded):
        return derived_id("refund", event.refund_id)
    if isinstance(event, InvoicePaid):
        return derived_id("paid", event.invoice_id)
    return None


async def follow_up_once(deps: Deps, event: BillingEvent, actor: str = "billing") -> bool:
    """Claim the fact's follow-up and carry it out; False if it was claimed before."""
    key = fact_key(event)
    if key is None:
        return False
    claim = {"invoice_id": getattr(event, "invoice_id", ""), "at": deps.clock.now()}
    try:
        await deps.followed_up.insert_one({"_id": key, **claim, "done": False})
    except DuplicateKeyError:
        return False
    await _carry_out(deps, key, event, actor)
    return True


async def _carry_out(deps: Deps, key: str, event: BillingEvent, actor: str) -> None:
    await follow_up(deps, event, actor)
    await deps.followed_up.update_one({"_id": key}, {"$set": {"done": True}})


async def resume_follow_ups(deps: Deps) -> int:
    """Finish follow-ups whose claim a crash left unfinished; returns how many."""
    cutoff = deps.clock.now() - CLAIM_LEASE
    resumed = 0
    async for claim in deps.followed_up.find({"done": False, "at": {"$lte": cutoff}}):
        taken = await deps.followed_up.update_one(
            {"_id": claim["_id"], "at": claim["at"], "done": False},
            {"$set": {"at": deps.clock.now()}},
        )
        if taken.modified_count == 0:
            continue  # another replica took it
        stream = domain.invoice_stream(claim["invoice_id"])
        for stored in await deps.store.read_stream(stream):
            event = stored.event
            if isinstance(event, BillingEvent) and fact_key(event) == claim["_id"]:
                await _carry_out(deps, claim["_id"], event, "billing")
                resumed += 1
    return resumed


async def follow_up(deps: Deps, event: BillingEvent, actor: str = "billing") -> None:
    """Idempotent consequences of billing's own events (keyed by the fact)."""
    key = fact_key(event)
    if key is None:
        return
    if isinstance(event, InvoicePaymentRecorded):
        await _credit(
            deps,
            key,
            event.account_id,
            event.credited_to_wallet,
            event.currency,
            "overpayment",
            f"invoice {event.invoice_id}",
        )
    elif isinstance(event, InvoiceCancelled):
        await _credit(
            deps,
            key,
            event.account_id,
            event.refunded_to_wallet,
            event.currency,
            "order_cancelled",
            f"order {event.order_id}",
        )
    elif isinstance(event, InvoiceRefunded):
        await _credit(
            deps,
            key,
            event.account_id,
            event.amount,
            event.currency,
            "refund",
            f"invoice {event.invoice_number}",
        )
    elif isinstance(event, InvoicePaid):
        await _fulfil(deps, event, actor)


async def _credit(
    deps: Deps, key: str, account_id: str, amount: int, currency: str, reason: str, reference: str
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
        "since": deps.clock.now(),
    }
    with contextlib.suppress(DuplicateKeyError):
        await deps.pending_credits.insert_one({"_id": key, **pending})
    await _send_credit(deps, key, pending)


async def _send_credit(deps: Deps, key: str, credit: dict[str, Any]) -> bool:
    try:
        await deps.wallet.credit(
            credit["account_id"],
            credit["amount"],
            credit["currency"],
            credit["reason"],
            credit["reference"],
            key=key,
        )
    except WalletUnavailable as exc:
        log.warning("wallet credit pending", key=key, status=exc.wallet_status)
        return False
    except WalletRefused as exc:
        # Money owed is never dropped: it stays pending, for the sweep and an operator.
        log.error("wallet refused a credit; left pending", key=key, code=exc.code)
        return False
    await deps.pending_credits.delete_one({"_id": key})
    return True


async def retry_credits(deps: Deps) -> int:
    """Send the credits the wallet did not take yet; returns how many went through."""
    sent = 0
    async for credit in deps.pending_credits.find({}):
        sent += await _send_credit(deps, credit.pop("_id"), credit)
    return sent


async def _fulfil(deps: Deps, paid: InvoicePaid, actor: str) -> None:
    # What the invoice was issued for never changes: the state in memory answers it.
    issued, _ = await deps.invoices.current(domain.invoice_stream(paid.invoice_id))
    stream = domain.subscription_stream(paid.subscription_id)
    sub, _ = await deps.subscriptions.load(stream)
    if paid.invoice_id in sub.invoices:
        return
    now, today = paid.occurred_at, paid.occurred_at.date()
    plan = await streams.plan(deps, issued.plan_id)
    command: domain.SubscriptionCommand
    if issued.order_kind == "new":
        if sub.status != "none":
            return
        command = domain.StartSubscription(
            now=now,
            today=today,
            subscription_id=paid.subscription_id,
            account_id=paid.account_id,
            contract_number=await number(deps, "HD"),
            invoice_id=paid.invoice_id,
            plan=plan,
            months=issued.months,
            amount=issued.total,
            trial_days=issued.trial_days,
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
            charge=issued.total - issued.upgrade_extension,
            months=issued.months if issued.upgrade_extension else 0,
            extension=issued.upgrade_extension,
        )
    try:
        await streams.run_subscription(deps, paid.subscription_id, command, paid.account_id, actor)
    except DomainError as exc:
        # Paid but not applicable (e.g. a second upgrade to the same tier): refund it.
        log.warning("paid order not applicable, refunding", code=exc.code)
        await streams.run_invoice(
            deps,
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
