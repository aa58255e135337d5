"""Bulk actions on many contacts at once: assign (by hand or round robin), label, delete.

A request that is wrong as a whole (no caretaker, an unknown label, no confirmation) changes
nothing; otherwise each selected contact is acted on alone, and one that cannot be (deleted
since the list was shown, say) is reported in `refused` while the others go ahead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from portal_chassis.auth import Principal
from portal_chassis.decider import DomainError, Forbidden
from portal_chassis.numbers import claim_slot
from portal_crm import domain
from portal_crm.contacts import delete
from portal_crm.deps import STAFF, Deps
from portal_crm.domain import Contact
from portal_crm.schemas import (
    BulkAssignedOut,
    BulkAssignIn,
    BulkDeletedOut,
    BulkDeleteIn,
    BulkLabelledOut,
    BulkLabelsIn,
    RefusedOut,
)
from portal_crm.streams import load_contact, run_contact


async def _each(
    deps: Deps, ids: list[str], act: Callable[[Contact], Awaitable[None]]
) -> tuple[list[str], list[RefusedOut]]:
    """Run `act` on each contact still there; the ids done and those refused, with the code."""
    done: list[str] = []
    refused: list[RefusedOut] = []
    for contact_id in ids:
        try:
            await act(await load_contact(deps, contact_id))
        except Forbidden:
            raise
        except DomainError as refusal:
            refused.append(RefusedOut(id=contact_id, code=refusal.code))
        else:
            done.append(contact_id)
    return done, refused


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

    async def assign(state: Contact) -> None:
        # A turn of the round robin is taken only by a contact that is still there.
        caretaker = (
            await _next_in_turn(deps, data.department, members)
            if data.method == "round_robin" and data.department
            else data.caretaker_id
        )
        assert caretaker is not None
        await run_contact(
            deps,
            state.contact_id,
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
        assigned.append({"id": state.contact_id, "caretaker_id": caretaker})

    _, refused = await _each(deps, data.ids, assign)
    return BulkAssignedOut.model_validate(
        {"items": assigned, "total": len(assigned), "refused": refused}
    )


async def bulk_labels(deps: Deps, principal: Principal, data: BulkLabelsIn) -> BulkLabelledOut:
    STAFF.require(principal)
    for label in [*data.add, *data.remove]:
        await deps.labels.require(label)

    async def relabel(state: Contact) -> None:
        labels = (set(state.labels) | set(data.add)) - set(data.remove)
        await run_contact(
            deps,
            state.contact_id,
            domain.SetLabels(now=deps.clock.now(), actor=principal.user_id, labels=tuple(labels)),
            principal.user_id,
        )

    done, refused = await _each(deps, data.ids, relabel)
    return BulkLabelledOut(updated=len(done), refused=refused)


async def bulk_delete(deps: Deps, principal: Principal, data: BulkDeleteIn) -> BulkDeletedOut:
    STAFF.require(principal)
    if not data.confirm:
        raise DomainError("confirmation_required", "confirm the deletion with confirm=true")

    async def remove(state: Contact) -> None:
        await delete(deps, principal, state.contact_id, True)

    done, refused = await _each(deps, data.ids, remove)
    return BulkDeletedOut(deleted=len(done), refused=refused)
