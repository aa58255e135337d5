"""Read use cases: a repair with its custody trail, its photos and label, lists, branches."""

from __future__ import annotations

import re
from typing import Any

from pymongo import DESCENDING

from portal_chassis.auth import Principal
from portal_chassis.contract import Page, paginate
from portal_chassis.decider import NotFound
from portal_contracts.events.repairs import RepairEvent, RepairRegistered
from portal_repairs import domain
from portal_repairs.contract import BranchesOut, BranchIn, BranchOut, RepairOut, RepairRowOut
from portal_repairs.deps import STAFF, Deps
from portal_repairs.label import svg as label_svg


async def photo(
    deps: Deps, principal: Principal, repair_id: str, file_id: str
) -> tuple[str, str, bytes]:
    repair = await get(deps, principal, repair_id)  # 404 unless the caller may see it
    if file_id not in {c.file_id for c in repair.custody}:
        raise NotFound("photo_not_found", "no such photo")
    found = await deps.blobs.get(file_id, repair.account_id)
    if found is None:
        raise NotFound("photo_not_found", "no such photo")
    stored, data = found
    return stored.content_type, stored.filename, data


async def branch_list(deps: Deps) -> BranchesOut:
    return BranchesOut.model_validate(await deps.branches.listing())


async def add_branch(deps: Deps, principal: Principal, data: BranchIn) -> BranchOut:
    return BranchOut.model_validate(await deps.branches.put(principal, data.id, data.name))


async def get(deps: Deps, principal: Principal, repair_id: str) -> RepairOut:
    state, version = await deps.runner.load(domain.stream_id(repair_id))
    if state.status == "none" or (
        not STAFF.held_by(principal) and state.account_id != principal.account_id
    ):
        raise NotFound("repair_not_found", "no such repair")
    events = await deps.store.read_stream(domain.stream_id(repair_id))
    registered = next(e.event for e in events if isinstance(e.event, RepairRegistered))
    assert isinstance(registered, RepairRegistered)
    return RepairOut.model_validate(
        {
            "id": state.repair_id,
            "repair_number": state.repair_number,
            "account_id": state.account_id,
            "status": state.status,
            "step": domain.STEPS.index(state.status) + 1 if state.status in domain.STEPS else None,
            "model": state.model,
            "serial": state.serial,
            "branch_id": state.branch_id,
            "technician_id": state.technician_id,
            "quote": {"amount": state.quote_amount, "currency": state.currency}
            if state.quote_amount is not None
            else None,
            "approved_amount": state.approved_amount,
            "warranty": state.warranty,
            "warranty_of": registered.warranty_of,
            "problem": registered.problem,
            "adapter_included": registered.adapter_included,
            "delivery": {
                "method": registered.delivery_method,
                "date": registered.delivery_date,
                "deliverer_name": registered.deliverer_name,
            },
            "return": {
                "method": registered.return_method,
                "address": registered.return_address,
            },
            "custody": [custody_entry(e.event) for e in events],
            "version": version,
            "label_url": f"/api/v1/repairs/{state.repair_id}/label",
        }
    )


async def list_repairs(
    deps: Deps,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    filters: dict[str, str | None],
    q: str | None,
) -> Page[RepairRowOut]:
    query: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if not STAFF.held_by(principal):
        query["account_id"] = principal.account_id
    if q:
        pattern = re.escape(q.strip())
        query["$or"] = [
            {"repair_number": {"$regex": pattern, "$options": "i"}},
            {"serial": {"$regex": pattern, "$options": "i"}},
            {"model": {"$regex": pattern, "$options": "i"}},
        ]
    total = await deps.view.count_documents(query)
    rows = []
    async for row in (
        deps.view.find(query).sort([("updated_at", DESCENDING)]).skip(offset).limit(limit)
    ):
        row["id"] = row.pop("_id")
        row.pop("repair_id", None)
        rows.append(RepairRowOut.model_validate(row))
    return paginate(rows, total, limit, offset)


async def label(deps: Deps, principal: Principal, repair_id: str) -> str:
    repair = await get(deps, principal, repair_id)
    return label_svg(
        repair.repair_number, repair.model, repair.serial, repair.delivery.deliverer_name
    )


def custody_entry(event: RepairEvent) -> dict[str, Any]:
    """One step of the chain of custody as the customer sees it."""
    entry: dict[str, Any] = {
        "event": event.event_type,
        "at": event.occurred_at,
        "by": event.actor,
        "branch_id": event.branch_id,
    }
    condition = getattr(event, "condition", None)
    if condition is not None:
        entry["condition"] = condition.model_dump()
    for name in (
        "technician_id",
        "amount",
        "currency",
        "method",
        "carrier",
        "tracking_number",
        "from_branch_id",
        "reason",
        "repaired",
        "file_id",
        "content_type",
        "stage",
    ):
        value = getattr(event, name, None)
        if value not in (None, ""):
            entry[name] = value
    return entry
