"""Bulk actions on many contacts at once: assign (by hand or round robin), label, delete."""

from __future__ import annotations

from portal_chassis.auth import Principal
from portal_chassis.decider import DomainError
from portal_chassis.numbers import claim_slot
from portal_crm import domain
from portal_crm.contacts import delete
from portal_crm.deps import STAFF, Deps
from portal_crm.schemas import (
    BulkAssignedOut,
    BulkAssignIn,
    BulkDeletedOut,
    BulkDeleteIn,
    BulkLabelledOut,
    BulkLabelsIn,
)
from portal_crm.streams import load_contact, run_contact


async def _department_members(deps: Deps, department: str) -> list[str]:
    members = [
        d["_id"]
        async for d in deps.staff.find({"department": department, "active": True}).sort("_id", 1)
    ]
    if not members:
        raise DomainError(
            "department_has_no_staff", f"no staff member in department {department!r}"
        )
    return members


async def _next_in_turn(deps: Deps, department: str, members: list[str]) -> str:
    """Round robin that holds under concurrency: each turn is a unique claimed slot."""
    n = await claim_slot(deps.round_robin, department, lambda k: f"{department}-{k:09d}")
    return domain.caretaker_in_turn(members, n)


async def bulk_assign(deps: Deps, principal: Principal, data: BulkAssignIn) -> BulkAssignedOut:
    STAFF.require(principal)
    for contact_id in data.ids:
        await load_contact(deps, contact_id)
    members: list[str] = []
    if data.method == "round_robin":
        if not data.department:
            raise DomainError("department_required", "round robin runs over a department")
        members = await _department_members(deps, data.department)
    elif not data.caretaker_id:
        raise DomainError("caretaker_required", "name the caretaker for a manual assignment")
    elif not await deps.staff.find_one({"_id": data.caretaker_id, "active": True}):
        raise DomainError("unknown_caretaker", "the caretaker is not a staff member")
    assigned = []
    for contact_id in data.ids:
        caretaker = (
            await _next_in_turn(deps, data.department, members)
            if data.method == "round_robin"
            else data.caretaker_id
        )
        await run_contact(
            deps,
            contact_id,
            domain.AssignLead(
                now=deps.clock.now(),
                actor=principal.user_id,
                caretaker_id=caretaker,
                method=data.method,
                department=data.department,
                care_from=data.care_from,
                note=data.note,
            ),
            principal.user_id,
        )
        assigned.append({"id": contact_id, "caretaker_id": caretaker})
    return BulkAssignedOut.model_validate({"items": assigned, "total": len(assigned)})


async def bulk_labels(deps: Deps, principal: Principal, data: BulkLabelsIn) -> BulkLabelledOut:
    STAFF.require(principal)
    for label in [*data.add, *data.remove]:
        await deps.labels.require(label)
    states = [await load_contact(deps, cid) for cid in data.ids]
    for state in states:
        labels = (set(state.labels) | set(data.add)) - set(data.remove)
        await run_contact(
            deps,
            state.contact_id,
            domain.SetLabels(now=deps.clock.now(), actor=principal.user_id, labels=tuple(labels)),
            principal.user_id,
        )
    return BulkLabelledOut(updated=len(states))


async def bulk_delete(deps: Deps, principal: Principal, data: BulkDeleteIn) -> BulkDeletedOut:
    STAFF.require(principal)
    if not data.confirm:
        raise DomainError("confirmation_required", "confirm the deletion with confirm=true")
    for contact_id in data.ids:
        await load_contact(deps, contact_id)
    for contact_id in data.ids:
        await delete(deps, principal, contact_id, True)
    return BulkDeletedOut(deleted=len(data.ids))
