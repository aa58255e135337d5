"""How each event changes a repair."""

from __future__ import annotations

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
    RepairTransferred,
)
from portal_repairs.domain.state import Repair


def evolve(state: Repair, event: RepairEvent) -> Repair:
    match event:
        case RepairRegistered():
            return Repair(
                status="registered",
                repair_id=event.repair_id,
                repair_number=event.repair_number,
                account_id=event.account_id,
                branch_id=event.branch_id,
                model=event.model,
                serial=event.serial,
                return_method=event.return_method,
                warranty=event.warranty,
            )
        case RepairReceived():
            return state.model_copy(update={"status": "received", "branch_id": event.branch_id})
        case RepairDiagnosisStarted():
            return state.model_copy(
                update={"status": "diagnosing", "technician_id": event.technician_id}
            )
        case RepairQuoted():
            return state.model_copy(
                update={
                    "status": "quoted",
                    "quote_amount": event.amount,
                    "currency": event.currency,
                }
            )
        case RepairQuoteApproved():
            return state.model_copy(update={"status": "approved", "approved_amount": event.amount})
        case RepairQuoteRejected():
            return state.model_copy(update={"status": "rejected"})
        case RepairStarted():
            return state.model_copy(update={"status": "repairing"})
        case RepairReady():
            return state.model_copy(update={"status": "ready", "repaired": event.repaired})
        case RepairReturned():
            return state.model_copy(update={"status": "returned"})
        case RepairCancelled():
            return state.model_copy(update={"status": "cancelled"})
        case RepairTransferred():
            return state.model_copy(update={"branch_id": event.branch_id})
    return state
