"""The repair's state, its steps and the small rules every decision shares."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from portal_chassis.decider import Conflict, NotFound
from portal_repairs.domain.commands import RepairCommand

Status = Literal[
    "none",
    "registered",
    "received",
    "diagnosing",
    "quoted",
    "approved",
    "rejected",
    "repairing",
    "ready",
    "returned",
    "cancelled",
]
CANCELLABLE = frozenset({"registered", "received", "diagnosing", "quoted", "approved"})
STEPS = (
    "registered",
    "received",
    "diagnosing",
    "quoted",
    "approved",
    "repairing",
    "ready",
    "returned",
)


def stream_id(repair_id: str) -> str:
    return f"repair-{repair_id}"


class Repair(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Status = "none"
    repair_id: str = ""
    repair_number: str = ""
    account_id: str = ""
    branch_id: str = ""
    model: str = ""
    serial: str = ""
    technician_id: str | None = None
    quote_amount: int | None = None
    approved_amount: int | None = None
    currency: str | None = None
    return_method: str = "pickup"
    warranty: bool = False
    repaired: bool = False


def require(state: Repair, *allowed: str, action: str) -> None:
    if state.status == "none":
        raise NotFound("repair_not_found", "no such repair")
    if state.status not in allowed:
        raise Conflict(
            "invalid_transition",
            f"cannot {action} a repair that is {state.status}",
            current_status=state.status,
        )


def owned(state: Repair, account_id: str | None) -> None:
    if state.status == "none" or (account_id is not None and state.account_id != account_id):
        raise NotFound("repair_not_found", "no such repair")


def carried(cmd: RepairCommand, state: Repair) -> dict[str, Any]:
    """What every event after the registration carries."""
    return {
        "repair_id": state.repair_id,
        "account_id": state.account_id,
        "actor": cmd.actor,
        "occurred_at": cmd.now,
    }
