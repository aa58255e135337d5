"""Load and run billing's streams, keeping their list rows current; set-up on start.

After an invoice command the invoice's rows are refreshed and what its new events call
for (`follow_ups`) is carried out, there and only there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from portal_billing import (
    domain,
    follow_ups,
)
from portal_billing.deps import (
    ADMINS,
    READ_MODEL_INDEXES,
    Deps,
    number,
)
from portal_billing.domain import Invoice, Plan, Subscription
from portal_billing.seed import SEED_PLANS
from portal_billing.views import (
    invoice_row,
    plan_row,
    subscription_row,
    without,
)
from portal_chassis.auth import Principal
from portal_chassis.commands import Outcome
from portal_chassis.decider import NotFound
from portal_chassis.eventstore import StoredEvent
from portal_chassis.logging import get_logger
from portal_chassis.mongo import update_by_id
from portal_chassis.projection import upsert_if_newer
from portal_chassis.usecases import meta, setup_storage
from portal_contracts.events.billing import PaymentClaimApproved, PaymentClaimRejected

CLAIM_DECISIONS = (PaymentClaimApproved, PaymentClaimRejected)

log = get_logger(__name__)


async def setup(deps: Deps) -> None:
    await setup_storage(deps.db, READ_MODEL_INDEXES, deps.blobs)
    if deps.settings.seed_catalogue:
        for seed in SEED_PLANS:
            await run_plan(
                deps,
                seed["plan_id"],
                domain.PublishPlan(now=deps.clock.now(), currency=deps.settings.currency, **seed),
                actor="seed",
            )


async def run_plan(deps: Deps, plan_id: str, command: domain.PlanCommand, actor: str) -> Plan:
    outcome = await deps.plans.run(
        domain.plan_stream(plan_id), command, metadata=meta(domain.PLATFORM, actor)
    )
    await upsert_if_newer(
        deps.plans_view,
        plan_id,
        outcome.version,
        plan_row(outcome.state),
    )
    return outcome.state


async def plan(deps: Deps, plan_id: str) -> Plan:
    state, _ = await deps.plans.load(domain.plan_stream(plan_id))
    if state.status == "none":
        raise NotFound("plan_not_found", "no such plan", plan_id=plan_id)
    return state


async def own_subscription(deps: Deps, principal: Principal, subscription_id: str) -> Subscription:
    state, _ = await deps.subscriptions.load(domain.subscription_stream(subscription_id))
    if state.status == "none" or (
        state.account_id != principal.account_id and not ADMINS.held_by(principal)
    ):
        raise NotFound("subscription_not_found", "no such subscription")
    return state


async def run_invoice(
    deps: Deps, invoice_id: str, command: domain.InvoiceCommand, account_id: str, actor: str
) -> Invoice:
    """Run an invoice command; one that completes the invoice gets its number first."""
    claimed: list[str] = []  # one number per call, kept across optimistic-concurrency retries

    async def numbered(command: domain.InvoiceCommand, state: Invoice) -> domain.InvoiceCommand:
        if not domain.needs_invoice_number(command, state):
            return command
        if not claimed:
            claimed.append(await number(deps, "INV"))
        return replace(command, invoice_number=claimed[0])  # type: ignore[type-var]

    outcome = await deps.invoices.run(
        domain.invoice_stream(invoice_id),
        command,
        metadata=meta(account_id, actor),
        prepare=numbered,
    )
    await after_invoice(deps, invoice_id, actor, outcome)
    return outcome.state


async def load_invoice(deps: Deps, principal: Principal, invoice_id: str) -> Invoice:
    state, _ = await deps.invoices.load(domain.invoice_stream(invoice_id))
    if state.status == "none" or (
        state.account_id != principal.account_id and not ADMINS.held_by(principal)
    ):
        raise NotFound("invoice_not_found", "no such invoice")
    return state


async def after_invoice(deps: Deps, invoice_id: str, actor: str, outcome: Outcome[Invoice]) -> None:
    """Refresh the read models, then carry out what the new events call for."""
    if outcome.commit is not None:
        await refresh_invoice_views(deps, invoice_id, outcome.commit.events)
        for stored in outcome.commit.events:
            await follow_ups.follow_up_once(deps, stored.event, actor)


async def run_subscription(
    deps: Deps,
    subscription_id: str,
    command: domain.SubscriptionCommand,
    account_id: str,
    actor: str,
) -> Subscription:
    outcome = await deps.subscriptions.run(
        domain.subscription_stream(subscription_id),
        command,
        metadata=meta(account_id, actor),
    )
    if outcome.commit is not None:
        await refresh_subscription_view(deps, subscription_id, (outcome.state, outcome.version))
    return outcome.state


async def refresh_invoice_views(deps: Deps, invoice_id: str, events: list[StoredEvent]) -> None:
    """Fold the events onto the invoice's stored rows; when they do not follow on from the
    stored row (no row yet, or one a crash left behind) the whole stream is folded."""
    if not events:
        return
    start: dict[str, Any] | None = None
    claims: dict[str, dict[str, Any]] = {}
    if events[0].version > 1:
        stored = await deps.invoices_view.find_one({"_id": invoice_id})
        if stored is not None and stored.get("version") == events[0].version - 1:
            start = without(stored, "_id", "version")
            if any(isinstance(e.event, CLAIM_DECISIONS) for e in events):
                async for claim in deps.claims_view.find({"invoice_id": invoice_id}):
                    claims[claim["_id"]] = without(claim, "_id", "version")
        elif stored is not None and stored.get("version", 0) >= events[-1].version:
            return  # the row has them already
        else:
            events = await deps.store.read_stream(domain.invoice_stream(invoice_id))
    row, claims_changed = invoice_row(events, start, claims)
    if not row:
        return
    version = events[-1].version
    await upsert_if_newer(deps.invoices_view, invoice_id, version, row)
    for claim in claims_changed:
        await upsert_if_newer(deps.claims_view, claim["claim_id"], version, claim)
    if row.get("invoice_number"):
        await update_by_id(
            deps.codes,
            row["invoice_number"],
            {"$set": {"account_id": row["account_id"], "kind": "invoice", "id": invoice_id}},
        )


async def refresh_subscription_view(
    deps: Deps, subscription_id: str, known: tuple[Subscription, int] | None = None
) -> None:
    """The subscription's row, from the state a command just reached (`known`) or loaded."""
    stream = domain.subscription_stream(subscription_id)
    state, version = known or await deps.subscriptions.load(stream)
    row = subscription_row(state)
    await upsert_if_newer(deps.subscriptions_view, subscription_id, version, row)
    await update_by_id(
        deps.codes,
        state.contract_number,
        {"$set": {"account_id": state.account_id, "kind": "contract", "id": subscription_id}},
    )


async def auto_pay_enabled(deps: Deps, account_id: str) -> bool:
    state, _ = await deps.accounts.load(domain.account_stream(account_id))
    return state.auto_pay
