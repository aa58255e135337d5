"""Load and run one contact's or one care activity's stream, keeping its list row current.

The rows are the read models the lists query; they are written right after the command's
commit (only when it committed something, and only if newer than the row).
"""

from __future__ import annotations

from typing import Any

from portal_chassis.commands import Outcome
from portal_chassis.decider import NotFound
from portal_chassis.projection import upsert_if_newer
from portal_chassis.usecases import meta
from portal_contracts.events.crm import (
    CareActivityCancelled,
    CareActivityCompleted,
    CareActivityDeleted,
    CareActivityRestored,
    CareActivityScheduled,
)
from portal_crm import domain, sorting
from portal_crm.deps import PLATFORM, Deps
from portal_crm.domain import Activity, Contact


async def load_contact(deps: Deps, contact_id: str, *, deleted_ok: bool = False) -> Contact:
    state, _ = await deps.contacts.load(domain.contact_stream(contact_id))
    if state.status == "none" or (state.status == "deleted" and not deleted_ok):
        raise NotFound("contact_not_found", "no such contact")
    return state


async def run_contact(
    deps: Deps, contact_id: str, command: domain.ContactCommandT, actor: str
) -> Outcome[Contact]:
    state, _ = await deps.contacts.load(domain.contact_stream(contact_id))
    outcome = await deps.contacts.run(
        domain.contact_stream(contact_id),
        command,
        metadata=meta(state.account_id or getattr(command, "account_id", None) or PLATFORM, actor),
    )
    if outcome.commit is not None:
        await _contact_row(deps, outcome)
    return outcome


async def _contact_row(deps: Deps, outcome: Outcome[Contact]) -> None:
    state = outcome.state
    details = state.details
    assert details is not None
    now = deps.clock.now()
    row = {
        "kind": state.kind,
        "status": state.status,
        "account_id": state.account_id,
        "name": details.name,
        "party_type": details.party_type,
        "phone": details.phone,
        "email": details.email,
        "tax_code": details.tax_code,
        "group": details.group,
        "owner_id": details.owner_id,
        "unit": details.unit,
        "industry": details.industry,
        "source": details.source,
        "labels": list(state.labels),
        "caretaker_id": state.caretaker_id,
        "held": state.caretaker_id is not None,  # FerretDB: match on a bool, not on null
        "points": state.points,
        "accumulated": state.accumulated,
        "level": state.level,
        "updated_at": now,
        **sorting.row_keys(details.name, details.group),
    }
    await upsert_if_newer(
        deps.contacts_view,
        state.contact_id,
        outcome.version,
        row,
        on_insert={"created_at": now},
    )


async def load_activity(deps: Deps, activity_id: str) -> Activity:
    state, _ = await deps.activities.load(domain.care_stream(activity_id))
    if state.status == "none":
        raise NotFound("activity_not_found", "no such care activity")
    return state


async def run_activity(
    deps: Deps,
    activity_id: str,
    command: domain.ActivityCommand,
    account_id: str | None,
    actor: str,
) -> Activity:
    outcome = await deps.activities.run(
        domain.care_stream(activity_id), command, metadata=meta(account_id or PLATFORM, actor)
    )
    if outcome.commit is not None:
        state = outcome.state
        row: dict[str, Any] = {"status": state.status, "updated_at": deps.clock.now()}
        for stored in outcome.commit.events:
            event = stored.event
            if isinstance(event, CareActivityScheduled):
                row.update(
                    contact_id=state.contact_id,
                    account_id=state.account_id,
                    title=event.title,
                    care_type_id=event.care_type_id,
                    care_type_name=event.care_type_name,
                    action=event.action,
                    reason_id=event.reason_id,
                    value=event.value,
                    due_at=event.due_at,
                    caretaker_id=event.caretaker_id,
                    department=event.department,
                    note=event.note,
                    scheduled_by=event.scheduled_by,
                )
            elif isinstance(event, CareActivityCompleted):
                row.update(outcome=event.outcome, done_at=event.occurred_at)
            elif isinstance(event, CareActivityCancelled):
                row.update(cancel_reason=event.reason)
            elif isinstance(event, CareActivityDeleted):
                row.update(deleted_at=event.occurred_at, deleted_by=event.deleted_by)
            elif isinstance(event, CareActivityRestored):
                row.update(deleted_at=None, deleted_by=None)
        await upsert_if_newer(deps.activities_view, activity_id, outcome.version, row)
    return outcome.state
