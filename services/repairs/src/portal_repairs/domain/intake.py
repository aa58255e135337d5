"""Intake at the counter: registering a device, receiving it at a branch, its photos."""

from __future__ import annotations

from portal_chassis.decider import DomainError
from portal_contracts.events.repairs import (
    RepairEvent,
    RepairPhotoAdded,
    RepairReceived,
    RepairRegistered,
)
from portal_repairs.domain.commands import (
    AddPhoto,
    ReceiveRepair,
    RegisterRepair,
)
from portal_repairs.domain.state import STEPS, Repair, carried, owned, require


def register_repair(cmd: RegisterRepair, state: Repair) -> list[RepairEvent]:
    if state.status != "none":
        return []
    if not cmd.serial.strip():
        raise DomainError("serial_required", "the serial number is required")
    if cmd.return_method == "shipping" and not cmd.return_address:
        raise DomainError("return_address_required", "shipping back needs a return address")
    return [
        RepairRegistered(
            repair_id=cmd.repair_id,
            account_id=cmd.account_id,
            actor=cmd.actor,
            branch_id=cmd.branch_id,
            occurred_at=cmd.now,
            repair_number=cmd.repair_number,
            model=cmd.model,
            serial=cmd.serial,
            problem=cmd.problem,
            adapter_included=cmd.adapter_included,
            condition=cmd.condition,
            delivery_method=cmd.delivery_method,
            delivery_date=cmd.delivery_date,
            deliverer_name=cmd.deliverer_name,
            deliverer_contact=cmd.deliverer_contact,
            return_method=cmd.return_method,
            return_address=cmd.return_address,
            warranty=cmd.warranty_of is not None,
            warranty_of=cmd.warranty_of,
        )
    ]


def receive_repair(cmd: ReceiveRepair, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    require(state, "registered", action="receive")
    return [
        RepairReceived(
            **{**base, "branch_id": cmd.branch_id},
            condition=cmd.condition,
            condition_corrected=bool(cmd.condition.checklist or cmd.condition.notes),
        )
    ]


def add_photo(cmd: AddPhoto, state: Repair) -> list[RepairEvent]:
    base = carried(cmd, state)
    owned(state, cmd.account_id)
    require(state, *(s for s in STEPS if s != "returned"), "rejected", action="add a photo to")
    if cmd.account_id is not None and cmd.stage != "intake":
        raise DomainError("stage_not_allowed", "customers add intake photos only")
    return [
        RepairPhotoAdded(
            **base,
            branch_id=state.branch_id,
            file_id=cmd.file_id,
            content_type=cmd.content_type,
            size=cmd.size,
            stage=cmd.stage,
        )
    ]
