"""The repairs part of the dashboards.

Customer: repairs in progress with their current step. Staff: repairs by step and by
branch, quotes waiting for the customer, and overdue repairs (open longer than a week).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from portal_chassis.auth import Principal
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.repairs import (
    RepairCancelled,
    RepairDiagnosisStarted,
    RepairEvent,
    RepairQuoteApproved,
    RepairQuoted,
    RepairQuoteRejected,
    RepairReady,
    RepairReceived,
    RepairRegistered,
    RepairReturned,
    RepairStarted,
)

OVERDUE = timedelta(days=7)
STEP_OF: dict[type[RepairEvent], str] = {
    RepairRegistered: "registered",
    RepairReceived: "received",
    RepairDiagnosisStarted: "diagnosing",
    RepairQuoted: "quoted",
    RepairQuoteApproved: "approved",
    RepairQuoteRejected: "rejected",
    RepairStarted: "repairing",
    RepairReady: "ready",
    RepairReturned: "returned",
    RepairCancelled: "cancelled",
}
CLOSED = {"returned", "cancelled"}


class RepairsPart:
    name = "repairs"
    contexts = frozenset({"repairs"})
    staff_reads_doc = True

    async def account_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        if not isinstance(event, RepairEvent):
            return None
        repairs = dict(doc.get("repairs", {}))
        row = dict(repairs.get(event.repair_id, {}))
        if isinstance(event, RepairRegistered):
            row.update(
                number=event.repair_number, model=event.model, registered_at=event.occurred_at
            )
        step = STEP_OF.get(type(event))
        if step:
            row.update(step=step, since=event.occurred_at)
        row["branch_id"] = event.branch_id
        if row.get("step") in CLOSED:
            repairs.pop(event.repair_id, None)
        else:
            repairs[event.repair_id] = row
        return {"$set": {"repairs": repairs}}

    async def staff_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        if not isinstance(event, RepairEvent):
            return None
        open_repairs = dict(doc.get("open", {}))
        row = dict(open_repairs.get(event.repair_id, {}))
        if isinstance(event, RepairRegistered):
            row["registered_at"] = event.occurred_at
        row["step"] = STEP_OF.get(type(event), row.get("step", "registered"))
        row["branch_id"] = event.branch_id
        if row["step"] in CLOSED:
            open_repairs.pop(event.repair_id, None)
        else:
            open_repairs[event.repair_id] = row
        return {"$set": {"open": open_repairs}}

    def render(self, doc: dict[str, Any], principal: Principal) -> dict[str, Any] | None:
        rows = [{"id": rid, **row} for rid, row in doc.get("repairs", {}).items()]
        rows.sort(key=lambda r: r.get("since") or "", reverse=True)
        return {"repairs_in_progress": rows}

    def render_staff(self, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        by_step: dict[str, int] = {}
        by_branch: dict[str, int] = {}
        overdue = []
        for rid, row in doc.get("open", {}).items():
            by_step[row["step"]] = by_step.get(row["step"], 0) + 1
            by_branch[row["branch_id"]] = by_branch.get(row["branch_id"], 0) + 1
            registered = row.get("registered_at")
            if registered and now - registered > OVERDUE:
                overdue.append(rid)
        return {
            "open": sum(by_step.values()),
            "by_step": by_step,
            "by_branch": by_branch,
            "waiting_for_quote_approval": by_step.get("quoted", 0),
            "overdue": len(overdue),
        }
