"""Where the device goes: handed back, cancelled, moved to another branch."""

from __future__ import annotations

from portal_chassis.decider import DomainError
from portal_contracts.events.repairs import (
    RepairCancelled,
    RepairEvent,
    RepairReturned,
    RepairTransferred,
)
from portal_repairs.domain.commands import (
    CancelRepair,
    ReturnDevice,
    TransferRepair,
)
from portal_repairs.domain.state import CANCELLABLE, Repair, carried, owned, require


def return_device(cmd: ReturnDevice, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    require(state, "ready", action="return")
    if cmd.method == "shipped" and not (cmd.carrier and cmd.tracking_number):
        raise DomainError("tracking_required", "shipping needs a carrier and a tracking number")
    return [
        RepairReturned(
            **base,
            branch_id=state.branch_id,
            method=cmd.method,
            carrier=cmd.carrier,
            tracking_number=cmd.tracking_number,
            condition=cmd.condition,
        )
    ]


def cancel_repair(cmd: CancelRepair, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    owned(state, cmd.account_id)
    require(state, *CANCELLABLE, action="cancel")
    return [RepairCancelled(**base, branch_id=state.branch_id, reason=cmd.reason)]


def transfer_repair(cmd: TransferRepair, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    require(
        state,
        "registered",
        "received",
        "diagnosing",
        "quoted",
        "approved",
        "rejected",
        "repairing",
        "ready",
        action="transfer",
    )
    if cmd.to_branch_id == state.branch_id:
        return []
    return [
        RepairTransferred(**{**base, "branch_id": cmd.to_branch_id}, from_branch_id=state.branch_id)
    ]
