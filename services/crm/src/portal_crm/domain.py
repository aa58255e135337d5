"""CRM aggregates: a contact (or customer) with its loyalty, and a care activity.

Pure code: time and ids come in with the commands. Loyalty rules:
- points and accumulated money never go below zero: a deduction beyond the balance is
  refused (a care action) or capped at what is there (a refund after a deduction);
- each source (an invoice, a refund, a care action) counts once: its reference is kept;
- the level is the highest threshold the accumulated money reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.crm import (
    MONEY_ACTIONS,
    POINT_ACTIONS,
    AccumulatedMoneyChanged,
    CareAction,
    CareActionRecorded,
    CareActivityCancelled,
    CareActivityCompleted,
    CareActivityDeleted,
    CareActivityRestored,
    CareActivityScheduled,
    CommentAdded,
    ContactConvertedToCustomer,
    ContactCreated,
    ContactDeleted,
    ContactDetails,
    ContactKind,
    ContactRestored,
    ContactUpdated,
    CrmEvent,
    CustomerLevelChanged,
    DocumentAttached,
    FileRef,
    LabelsChanged,
    LeadAssigned,
    LevelProgressChanged,
    PointsChanged,
    PortraitUpdated,
)


def contact_stream(contact_id: str) -> str:
    return f"contact-{contact_id}"


def care_stream(activity_id: str) -> str:
    return f"care-{activity_id}"


# ------------------------------------------------------------------ levels


@dataclass(frozen=True)
class Level:
    name: str
    min_accumulated: int


DEFAULT_LEVELS = (
    Level("member", 0),
    Level("silver", 5_000_000),
    Level("gold", 20_000_000),
    Level("platinum", 50_000_000),
)


def check_levels(levels: Sequence[Level]) -> tuple[Level, ...]:
    ordered = tuple(sorted(levels, key=lambda lv: lv.min_accumulated))
    if not ordered or ordered[0].min_accumulated != 0:
        raise DomainError("levels_start_at_zero", "the first level starts at 0")
    names = [lv.name for lv in ordered]
    if len(set(names)) != len(names):
        raise DomainError("duplicate_level", "level names are unique")
    if len({lv.min_accumulated for lv in ordered}) != len(ordered):
        raise DomainError("duplicate_threshold", "each level has its own threshold")
    return ordered


def level_for(accumulated: int, levels: Sequence[Level]) -> str:
    reached = [lv for lv in levels if accumulated >= lv.min_accumulated]
    return max(reached, key=lambda lv: lv.min_accumulated).name if reached else levels[0].name


def next_level(accumulated: int, levels: Sequence[Level]) -> Level | None:
    above = [lv for lv in levels if lv.min_accumulated > accumulated]
    return min(above, key=lambda lv: lv.min_accumulated) if above else None


# ------------------------------------------------------------------ lead assignment


def caretaker_in_turn(members: Sequence[str], turn: int) -> str:
    """Round robin over a department: its staff in a stable order (by id); turn n (counted
    from 0 across all assignments in the department) goes to the n-th, wrapping around."""
    if not members:
        raise DomainError("department_has_no_staff", "no staff member in this department")
    ordered = sorted(set(members))
    return ordered[turn % len(ordered)]


# ------------------------------------------------------------------ contacts


class Contact(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: Literal["none", "active", "deleted"] = "none"
    contact_id: str = ""
    account_id: str | None = None
    kind: ContactKind = "contact"
    details: ContactDetails | None = None
    labels: tuple[str, ...] = ()
    caretaker_id: str | None = None
    points: int = 0
    accumulated: int = 0
    level: str | None = None
    level_from: int = 0
    next_level: str | None = None
    next_level_at: int | None = None
    """Where the level starts and the next begins, as last published (progress bars)."""
    references: tuple[str, ...] = ()
    """Sources already counted (invoice ids, refund ids, care action ids)."""
    portrait: dict[str, str] = {}
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactCommand:
    now: datetime
    actor: str


@dataclass(frozen=True)
class CreateContact(ContactCommand):
    contact_id: str
    kind: ContactKind
    details: ContactDetails
    account_id: str | None = None
    levels: tuple[Level, ...] = DEFAULT_LEVELS


@dataclass(frozen=True)
class UpdateContact(ContactCommand):
    details: ContactDetails


@dataclass(frozen=True)
class ConvertToCustomer(ContactCommand):
    levels: tuple[Level, ...] = DEFAULT_LEVELS


@dataclass(frozen=True)
class AssignLead(ContactCommand):
    caretaker_id: str
    method: Literal["manual", "round_robin"]
    department: str | None = None
    care_from: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class SetLabels(ContactCommand):
    labels: tuple[str, ...]


@dataclass(frozen=True)
class DeleteContact(ContactCommand):
    pass


@dataclass(frozen=True)
class RestoreContact(ContactCommand):
    pass


@dataclass(frozen=True)
class UpdatePortrait(ContactCommand):
    attributes: dict[str, str]


@dataclass(frozen=True)
class AttachDocument(ContactCommand):
    file: FileRef


@dataclass(frozen=True)
class AddComment(ContactCommand):
    comment_id: str
    text: str
    attachments: tuple[FileRef, ...] = ()
    activity_id: str | None = None


@dataclass(frozen=True)
class RecordCareAction(ContactCommand):
    action_id: str
    care_type_id: str
    care_type_name: str
    action: CareAction
    value: int = 0
    note: str = ""
    activity_id: str | None = None
    levels: tuple[Level, ...] = DEFAULT_LEVELS


@dataclass(frozen=True)
class CountSpending(ContactCommand):
    """Billing told us: an invoice was paid (positive) or refunded (negative)."""

    reference: str
    amount: int
    currency: str
    source: Literal["invoice_paid", "invoice_refunded"]
    levels: tuple[Level, ...] = DEFAULT_LEVELS
    program_currency: str = "VND"
    """Thresholds are in this currency; money in another one is not counted (no FX here)."""


@dataclass(frozen=True)
class RecomputeLevel(ContactCommand):
    levels: tuple[Level, ...] = DEFAULT_LEVELS


ContactCommandT = (
    CreateContact
    | UpdateContact
    | ConvertToCustomer
    | AssignLead
    | SetLabels
    | DeleteContact
    | RestoreContact
    | UpdatePortrait
    | AttachDocument
    | AddComment
    | RecordCareAction
    | CountSpending
    | RecomputeLevel
)


def _level_change(
    state: Contact,
    now: datetime,
    accumulated: int,
    levels: Sequence[Level],
    reason: Literal["accumulated_money", "thresholds_changed"],
) -> list[CrmEvent]:
    if state.kind != "customer":
        return []
    new = level_for(accumulated, levels)
    upcoming = next_level(accumulated, levels)
    level_from = next(lv.min_accumulated for lv in levels if lv.name == new)
    if new == state.level:
        bounds = (
            level_from,
            upcoming.name if upcoming else None,
            upcoming.min_accumulated if upcoming else None,
        )
        if reason == "accumulated_money" or bounds == (
            state.level_from,
            state.next_level,
            state.next_level_at,
        ):
            return []
        return [
            LevelProgressChanged(
                occurred_at=now,
                contact_id=state.contact_id,
                account_id=state.account_id,
                level=new,
                accumulated=accumulated,
                level_from=bounds[0],
                next_level=bounds[1],
                next_level_at=bounds[2],
            )
        ]
    return [
        CustomerLevelChanged(
            occurred_at=now,
            contact_id=state.contact_id,
            account_id=state.account_id,
            from_level=state.level,
            to_level=new,
            accumulated=accumulated,
            reason=reason,
            level_from=level_from,
            next_level=upcoming.name if upcoming else None,
            next_level_at=upcoming.min_accumulated if upcoming else None,
        )
    ]


def _money(
    state: Contact, now: datetime, delta: int, source: str, reference: str, levels: Sequence[Level]
) -> list[CrmEvent]:
    total = state.accumulated + delta
    upcoming = next_level(total, levels)
    changed = AccumulatedMoneyChanged(
        occurred_at=now,
        contact_id=state.contact_id,
        account_id=state.account_id,
        delta=delta,
        total=total,
        source=source,  # type: ignore[arg-type]
        reference=reference,
        next_level=upcoming.name if upcoming else None,
        next_level_at=upcoming.min_accumulated if upcoming else None,
    )
    return [changed, *_level_change(state, now, total, levels, "accumulated_money")]


def decide_contact(command: ContactCommandT, state: Contact) -> Sequence[CrmEvent]:
    match command:
        case CreateContact():
            return _create(command, state)
    if state.status == "none":
        raise NotFound("contact_not_found", "no such contact")
    # Money from other contexts and threshold changes still reach a deleted contact.
    match command:
        case RestoreContact():
            return _restore(command, state)
        case CountSpending():
            return _count_spending(command, state)
        case RecomputeLevel():
            return _level_change(
                state, command.now, state.accumulated, command.levels, "thresholds_changed"
            )
    if state.status == "deleted":
        raise NotFound("contact_not_found", "no such contact")
    match command:
        case DeleteContact():
            return [
                ContactDeleted(occurred_at=command.now, deleted_by=command.actor, **_ids(state))
            ]
        case UpdateContact():
            return _update(command, state)
        case ConvertToCustomer():
            return _convert(command, state)
        case AssignLead():
            return _assign(command, state)
        case SetLabels():
            return _set_labels(command, state)
        case UpdatePortrait():
            return _portrait(command, state)
        case AttachDocument():
            return [
                DocumentAttached(
                    occurred_at=command.now,
                    file=command.file,
                    attached_by=command.actor,
                    **_ids(state),
                )
            ]
        case AddComment():
            return _comment(command, state)
        case RecordCareAction():
            return _care_action(command, state)
    raise TypeError(f"unknown command {command!r}")


def _ids(state: Contact) -> dict[str, Any]:
    return {"contact_id": state.contact_id, "account_id": state.account_id}


def _create(command: CreateContact, state: Contact) -> list[CrmEvent]:
    if state.status != "none":
        return []  # created already (a redelivered registration)
    created = ContactCreated(
        occurred_at=command.now,
        contact_id=command.contact_id,
        account_id=command.account_id,
        kind=command.kind,
        details=command.details,
        created_by=command.actor,
    )
    fresh = evolve_contact(state, created)
    return [created, *_level_change(fresh, command.now, 0, command.levels, "accumulated_money")]


def _restore(command: RestoreContact, state: Contact) -> list[CrmEvent]:
    if state.status != "deleted":
        return []
    return [ContactRestored(occurred_at=command.now, restored_by=command.actor, **_ids(state))]


def _count_spending(command: CountSpending, state: Contact) -> list[CrmEvent]:
    if command.reference in state.references:
        return []
    if command.amount == 0 or command.currency != command.program_currency:
        return []
    # A refund never takes the total below zero (staff may have deducted already).
    delta = max(command.amount, -state.accumulated)
    if delta == 0:
        return []
    return _money(state, command.now, delta, command.source, command.reference, command.levels)


def _update(command: UpdateContact, state: Contact) -> list[CrmEvent]:
    if command.details == state.details:
        return []
    return [
        ContactUpdated(
            occurred_at=command.now,
            details=command.details,
            updated_by=command.actor,
            **_ids(state),
        )
    ]


def _convert(command: ConvertToCustomer, state: Contact) -> list[CrmEvent]:
    if state.kind == "customer":
        raise Conflict("already_customer", "this contact is already a customer")
    converted = ContactConvertedToCustomer(
        occurred_at=command.now, converted_by=command.actor, **_ids(state)
    )
    after = evolve_contact(state, converted)
    return [
        converted,
        *_level_change(after, command.now, state.accumulated, command.levels, "accumulated_money"),
    ]


def _assign(command: AssignLead, state: Contact) -> list[CrmEvent]:
    if state.caretaker_id == command.caretaker_id:
        return []
    return [
        LeadAssigned(
            occurred_at=command.now,
            caretaker_id=command.caretaker_id,
            method=command.method,
            department=command.department,
            care_from=command.care_from,
            note=command.note,
            assigned_by=command.actor,
            **_ids(state),
        )
    ]


def _set_labels(command: SetLabels, state: Contact) -> list[CrmEvent]:
    labels = sorted(set(command.labels))
    if tuple(labels) == state.labels:
        return []
    return [
        LabelsChanged(
            occurred_at=command.now, labels=labels, changed_by=command.actor, **_ids(state)
        )
    ]


def _portrait(command: UpdatePortrait, state: Contact) -> list[CrmEvent]:
    return [
        PortraitUpdated(
            occurred_at=command.now,
            attributes=command.attributes,
            updated_by=command.actor,
            **_ids(state),
        )
    ]


def _comment(command: AddComment, state: Contact) -> list[CrmEvent]:
    if not command.text.strip() and not command.attachments:
        raise DomainError("empty_comment", "a comment has text or an attachment")
    return [
        CommentAdded(
            occurred_at=command.now,
            comment_id=command.comment_id,
            author_id=command.actor,
            text=command.text.strip(),
            attachments=list(command.attachments),
            activity_id=command.activity_id,
            **_ids(state),
        )
    ]


def _care_action(command: RecordCareAction, state: Contact) -> list[CrmEvent]:
    if command.action_id in state.references:
        return []
    now = command.now
    ids = _ids(state)
    loyalty = command.action in POINT_ACTIONS or command.action in MONEY_ACTIONS
    if loyalty and command.value <= 0:
        raise DomainError(
            "value_not_positive", "points or money given or deducted are greater than zero"
        )
    if loyalty and state.kind != "customer":
        raise Conflict("not_a_customer", "points and money are for customers; convert first")
    recorded = CareActionRecorded(
        occurred_at=now,
        action_id=command.action_id,
        care_type_id=command.care_type_id,
        care_type_name=command.care_type_name,
        action=command.action,
        value=command.value if loyalty else 0,
        note=command.note,
        activity_id=command.activity_id,
        recorded_by=command.actor,
        **ids,
    )
    events: list[CrmEvent] = [recorded]
    if command.action in POINT_ACTIONS:
        delta = command.value if command.action == "give_points" else -command.value
        if state.points + delta < 0:
            raise DomainError(
                "points_insufficient",
                "points never go below zero",
                points=state.points,
                requested=command.value,
            )
        events.append(
            PointsChanged(
                occurred_at=now,
                delta=delta,
                balance=state.points + delta,
                reference=command.action_id,
                **ids,
            )
        )
    elif command.action in MONEY_ACTIONS:
        delta = command.value if command.action == "give_money" else -command.value
        if state.accumulated + delta < 0:
            raise DomainError(
                "accumulated_insufficient",
                "accumulated money never goes below zero",
                accumulated=state.accumulated,
                requested=command.value,
            )
        events += _money(state, now, delta, "care_action", command.action_id, command.levels)
    return events


def evolve_contact(state: Contact, event: CrmEvent) -> Contact:
    if isinstance(event, ContactCreated):
        return Contact(
            status="active",
            contact_id=event.contact_id,
            account_id=event.account_id,
            kind=event.kind,
            details=event.details,
        )
    if isinstance(event, ContactUpdated):
        return state.model_copy(update={"details": event.details})
    if isinstance(event, ContactConvertedToCustomer):
        return state.model_copy(update={"kind": "customer"})
    if isinstance(event, LeadAssigned):
        return state.model_copy(update={"caretaker_id": event.caretaker_id})
    if isinstance(event, LabelsChanged):
        return state.model_copy(update={"labels": tuple(event.labels)})
    if isinstance(event, ContactDeleted):
        return state.model_copy(update={"status": "deleted"})
    if isinstance(event, ContactRestored):
        return state.model_copy(update={"status": "active"})
    if isinstance(event, PortraitUpdated):
        return state.model_copy(update={"portrait": dict(event.attributes)})
    if isinstance(event, DocumentAttached):
        return state.model_copy(update={"files": (*state.files, event.file.file_id)})
    if isinstance(event, CommentAdded):
        files = tuple(f.file_id for f in event.attachments)
        return state.model_copy(update={"files": (*state.files, *files)})
    if isinstance(event, CareActionRecorded):
        return state.model_copy(update={"references": (*state.references, event.action_id)})
    if isinstance(event, PointsChanged):
        return state.model_copy(update={"points": event.balance})
    if isinstance(event, AccumulatedMoneyChanged):
        references = state.references
        if event.source != "care_action":
            references = (*references, event.reference)
        return state.model_copy(
            update={
                "accumulated": event.total,
                "references": references,
                "next_level": event.next_level,
                "next_level_at": event.next_level_at,
            }
        )
    if isinstance(event, CustomerLevelChanged | LevelProgressChanged):
        level = event.to_level if isinstance(event, CustomerLevelChanged) else event.level
        return state.model_copy(
            update={
                "level": level,
                "level_from": event.level_from,
                "next_level": event.next_level,
                "next_level_at": event.next_level_at,
            }
        )
    return state


contact_decider: Decider[ContactCommandT, Contact, CrmEvent] = Decider(
    initial_state=Contact(),
    decide=decide_contact,
    evolve=evolve_contact,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Contact.model_validate,
)


# ------------------------------------------------------------------ care activities


class Activity(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: Literal["none", "planned", "done", "cancelled"] = "none"
    activity_id: str = ""
    contact_id: str = ""
    account_id: str | None = None
    action: CareAction = "call"
    value: int = 0
    caretaker_id: str = ""
    due_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True)
class ScheduleActivity:
    now: datetime
    actor: str
    activity_id: str
    contact_id: str
    account_id: str | None
    title: str
    care_type_id: str
    care_type_name: str
    action: CareAction
    due_at: datetime
    caretaker_id: str
    reason_id: str | None = None
    value: int = 0
    department: str | None = None
    note: str = ""


@dataclass(frozen=True)
class CompleteActivity:
    now: datetime
    actor: str
    outcome: str = ""


@dataclass(frozen=True)
class CancelActivity:
    now: datetime
    actor: str
    reason: str = ""


@dataclass(frozen=True)
class DeleteActivity:
    now: datetime
    actor: str


@dataclass(frozen=True)
class RestoreActivity:
    now: datetime
    actor: str


ActivityCommand = (
    ScheduleActivity | CompleteActivity | CancelActivity | DeleteActivity | RestoreActivity
)


def decide_activity(command: ActivityCommand, state: Activity) -> Sequence[CrmEvent]:
    match command:
        case ScheduleActivity():
            return _schedule(command, state)
    if state.status == "none":
        raise NotFound("activity_not_found", "no such care activity")
    match command:
        case DeleteActivity():
            return _delete_activity(command, state)
        case RestoreActivity():
            return _restore_activity(command, state)
    if state.deleted:
        raise Conflict("activity_deleted", "a deleted activity is restored before it changes")
    match command:
        case CompleteActivity():
            return _complete(command, state)
        case CancelActivity():
            return _cancel(command, state)
    raise TypeError(f"unknown command {command!r}")


def _schedule(command: ScheduleActivity, state: Activity) -> list[CrmEvent]:
    if state.status != "none":
        return []
    if not command.title.strip():
        raise DomainError("title_required", "a care activity has a title")
    loyalty = command.action in POINT_ACTIONS or command.action in MONEY_ACTIONS
    if loyalty and command.value <= 0:
        raise DomainError("value_not_positive", "say how many points or how much money")
    if command.value < 0:
        raise DomainError("value_not_positive", "values are never negative")
    return [
        CareActivityScheduled(
            occurred_at=command.now,
            contact_id=command.contact_id,
            account_id=command.account_id,
            activity_id=command.activity_id,
            title=command.title.strip(),
            care_type_id=command.care_type_id,
            care_type_name=command.care_type_name,
            action=command.action,
            reason_id=command.reason_id,
            value=command.value if loyalty else 0,
            due_at=command.due_at,
            caretaker_id=command.caretaker_id,
            department=command.department,
            note=command.note,
            scheduled_by=command.actor,
        )
    ]


def _complete(command: CompleteActivity, state: Activity) -> list[CrmEvent]:
    if state.status == "done":
        return []
    if state.status == "cancelled":
        raise Conflict("activity_cancelled", "a cancelled activity cannot be done")
    return [
        CareActivityCompleted(
            occurred_at=command.now,
            activity_id=state.activity_id,
            outcome=command.outcome,
            completed_by=command.actor,
            contact_id=state.contact_id,
            account_id=state.account_id,
        )
    ]


def _cancel(command: CancelActivity, state: Activity) -> list[CrmEvent]:
    if state.status == "cancelled":
        return []
    if state.status == "done":
        raise Conflict("activity_done", "a done activity cannot be cancelled")
    return [
        CareActivityCancelled(
            occurred_at=command.now,
            activity_id=state.activity_id,
            reason=command.reason,
            cancelled_by=command.actor,
            contact_id=state.contact_id,
            account_id=state.account_id,
        )
    ]


def _delete_activity(command: DeleteActivity, state: Activity) -> list[CrmEvent]:
    if state.deleted:
        return []
    return [
        CareActivityDeleted(
            occurred_at=command.now,
            activity_id=state.activity_id,
            deleted_by=command.actor,
            contact_id=state.contact_id,
            account_id=state.account_id,
        )
    ]


def _restore_activity(command: RestoreActivity, state: Activity) -> list[CrmEvent]:
    status = state.status
    if not state.deleted or status == "none":
        return []
    return [
        CareActivityRestored(
            occurred_at=command.now,
            activity_id=state.activity_id,
            status=status,
            due_at=state.due_at or command.now,
            restored_by=command.actor,
            contact_id=state.contact_id,
            account_id=state.account_id,
        )
    ]


def evolve_activity(state: Activity, event: CrmEvent) -> Activity:
    if isinstance(event, CareActivityScheduled):
        return Activity(
            status="planned",
            activity_id=event.activity_id,
            contact_id=event.contact_id,
            account_id=event.account_id,
            action=event.action,
            value=event.value,
            caretaker_id=event.caretaker_id,
            due_at=event.due_at,
        )
    if isinstance(event, CareActivityDeleted | CareActivityRestored):
        return state.model_copy(update={"deleted": isinstance(event, CareActivityDeleted)})
    if isinstance(event, CareActivityCompleted):
        return state.model_copy(update={"status": "done"})
    if isinstance(event, CareActivityCancelled):
        return state.model_copy(update={"status": "cancelled"})
    return state


activity_decider: Decider[ActivityCommand, Activity, CrmEvent] = Decider(
    initial_state=Activity(),
    decide=decide_activity,
    evolve=evolve_activity,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Activity.model_validate,
    state_version=2,  # v2: due_at and deleted
)
