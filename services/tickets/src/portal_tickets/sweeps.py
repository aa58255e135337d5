"""The scheduler's sweep: record SLA breaches and auto-close quiet resolved tickets."""

from __future__ import annotations

from datetime import timedelta

from pymongo import ASCENDING

from portal_tickets import domain, streams
from portal_tickets.deps import Deps


async def sweep(deps: Deps) -> dict[str, int]:
    """Auto-close quiet resolved tickets and record SLA breaches (scheduler)."""
    now = deps.clock.now()
    closed = breached = 0
    quiet = timedelta(seconds=deps.settings.auto_close_seconds)
    async for row in deps.view.find({"status": {"$ne": "closed"}}).sort("created_at", ASCENDING):
        for command in (
            domain.CheckSla(actor="system:sla", now=now, policy=deps.policy),
            domain.CloseIfQuiet(actor="system:auto-close", now=now, quiet_period=quiet),
        ):
            outcome = await streams.run(deps, None, row["_id"], command, row["account_id"])
            if outcome.commit and not outcome.replayed:
                n = len(outcome.commit.events)
                if isinstance(command, domain.CheckSla):
                    breached += n
                else:
                    closed += n
    return {"closed": closed, "breaches": breached}
