"""The work on the bench: diagnosis, repair, ready for return."""

from __future__ import annotations

from portal_contracts.events.repairs import (
    RepairDiagnosisStarted,
    RepairEvent,
    RepairReady,
    RepairStarted,
)
from portal_repairs.domain.commands import (
    MarkReady,
    StartDiagnosis,
    StartRepair,
)
from portal_repairs.domain.state import Repair, carried, require


def start_diagnosis(cmd: StartDiagnosis, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    require(state, "received", action="diagnose")
    return [
        RepairDiagnosisStarted(**base, branch_id=state.branch_id, technician_id=cmd.technician_id)
    ]


def start_repair(cmd: StartRepair, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    require(state, "approved", action="start repairing")
    return [RepairStarted(**base, branch_id=state.branch_id)]


def mark_ready(cmd: MarkReady, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    require(state, "repairing", "rejected", action="mark ready")
    return [RepairReady(**base, branch_id=state.branch_id, repaired=state.status == "repairing")]
