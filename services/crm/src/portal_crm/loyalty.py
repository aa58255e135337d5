"""Loyalty: level thresholds and their background recompute, money counted from billing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal_chassis.auth import Principal
from portal_chassis.logging import get_logger
from portal_chassis.mongo import replace_by_id
from portal_contracts.events.crm import (
    ContactDetails,
)
from portal_crm import domain
from portal_crm.deps import ADMINS, PLACEHOLDER, STAFF, Deps, current_levels
from portal_crm.domain import Level
from portal_crm.schemas import (
    LevelIn,
    LevelsOut,
    RecomputeOut,
)
from portal_crm.streams import run_contact

log = get_logger(__name__)

RECOMPUTE_JOB = "levels-recompute"
RECOMPUTE_BATCH = 200


async def levels_view(deps: Deps) -> LevelsOut:
    return LevelsOut.model_validate(
        {
            "items": [
                {"name": lv.name, "min_accumulated": lv.min_accumulated}
                for lv in await current_levels(deps)
            ],
            "currency": deps.settings.currency,
            "recompute": await recompute_status(deps),
        }
    )


async def levels_of(deps: Deps, principal: Principal) -> LevelsOut:
    STAFF.require(principal)
    return await levels_view(deps)


async def set_levels(deps: Deps, principal: Principal, levels: list[LevelIn]) -> LevelsOut:
    """New thresholds apply at once to money counted from now on; every customer's level
    is recomputed by a background job (a request could not wait for thousands)."""
    STAFF.require(principal)
    ADMINS.require(principal)
    ordered = domain.check_levels([Level(lv.name, lv.min_accumulated) for lv in levels])
    version = deps.new_id()
    await replace_by_id(
        deps.config,
        "levels",
        {
            "levels": [{"name": lv.name, "min_accumulated": lv.min_accumulated} for lv in ordered],
            "version": version,
        },
    )
    # A newer change restarts the job from the first customer.
    await replace_by_id(
        deps.jobs,
        RECOMPUTE_JOB,
        {
            "version": version,
            "after": "",
            "checked": 0,
            "changed": 0,
            "done": False,
            "by": principal.user_id,
            "started_at": deps.clock.now(),
        },
    )
    deps.wake_recompute()
    return await levels_view(deps)


async def recompute_status(deps: Deps) -> RecomputeOut | None:
    job = await deps.jobs.find_one({"_id": RECOMPUTE_JOB})
    if job is None:
        return None
    return RecomputeOut(
        status="done" if job["done"] else "running",
        customers_checked=job["checked"],
        customers_changed=job["changed"],
        started_at=job["started_at"],
        finished_at=job.get("finished_at"),
    )


async def recompute_levels(deps: Deps) -> int:
    """The background job: recompute levels batch by batch until done; returns batches.

    One replica at a time (a lease); progress is kept after every batch, so a restart
    goes on where it stopped. Recomputing a customer twice changes nothing.
    """
    batches = 0
    while await _recompute_batch(
        deps,
    ):
        batches += 1
    return batches


async def _recompute_batch(deps: Deps) -> bool:
    job = await deps.jobs.find_one({"_id": RECOMPUTE_JOB})
    if job is None or job["done"] or not await deps.recompute_lease.acquire():
        return False
    levels = await current_levels(deps)
    rows = [
        row["_id"]
        async for row in deps.contacts_view.find(
            {"kind": "customer", "_id": {"$gt": job["after"]}}, {"_id": 1}
        )
        .sort("_id", 1)
        .limit(RECOMPUTE_BATCH)
    ]
    changed = 0
    for contact_id in rows:
        outcome = await run_contact(
            deps,
            contact_id,
            domain.RecomputeLevel(now=deps.clock.now(), actor=job["by"], levels=levels),
            job["by"],
        )
        changed += outcome.commit is not None
    done = len(rows) < RECOMPUTE_BATCH
    progress: dict[str, Any] = {"after": rows[-1] if rows else job["after"], "done": done}
    if done:
        progress["finished_at"] = deps.clock.now()
    # Only this version's job moves: a newer threshold change has reset it.
    result = await deps.jobs.update_one(
        {"_id": RECOMPUTE_JOB, "version": job["version"]},
        {"$set": progress, "$inc": {"checked": len(rows), "changed": changed}},
    )
    return result.modified_count == 1 and not done


async def count_spending(
    deps: Deps,
    account_id: str,
    reference: str,
    amount: int,
    currency: str,
    source: str,
    at: datetime,
) -> None:
    """Billing's InvoicePaid / InvoiceRefunded, counted once per invoice or refund."""
    if currency != deps.settings.currency:
        log.warning(
            "loyalty_currency_skipped",
            account_id=account_id,
            reference=reference,
            currency=currency,
            program_currency=deps.settings.currency,
        )
        return  # nothing to count (the decider refuses it too)
    state, _ = await deps.contacts.load(domain.contact_stream(account_id))
    if state.status == "none":
        # Topics are consumed independently: the registration may come later. The
        # customer is made now so the money is counted; registration fills the card.
        await run_contact(
            deps,
            account_id,
            domain.CreateContact(
                now=at,
                actor="billing",
                contact_id=account_id,
                kind="customer",
                details=ContactDetails(name=f"Account {account_id}", source=PLACEHOLDER),
                account_id=account_id,
                levels=await current_levels(deps),
            ),
            "billing",
        )
    await run_contact(
        deps,
        account_id,
        domain.CountSpending(
            now=at,
            actor="billing",
            reference=reference,
            amount=amount,
            currency=currency,
            source=source,  # type: ignore[arg-type]
            levels=await current_levels(deps),
            program_currency=deps.settings.currency,
        ),
        "billing",
    )
