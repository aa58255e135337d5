"""The repair aggregate (stream `repair-<id>`): intake, workflow, chain of custody.

Pure code. Every command names its actor and time; every event records who, where and
when, so the stream itself is the append-only chain of custody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.repairs import (
    Condition,
    QuoteLine,
    RepairCancelled,
    RepairDiagnosisStarted,
    RepairEvent,
    RepairPhotoAdded,
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


# --- commands ---


@dataclass(frozen=True)
class RepairCommand:
    actor: str
    now: datetime


@dataclass(frozen=True)
class RegisterRepair(RepairCommand):
    repair_id: str
    repair_number: str
    account_id: str
    branch_id: str
    model: str
    serial: str
    problem: str
    adapter_included: bool
    condition: Condition
    delivery_method: Literal["drop_off", "courier_pickup"]
    delivery_date: date
    deliverer_name: str
    deliverer_contact: str
    return_method: Literal["pickup", "shipping"]
    return_address: str | None = None
    warranty_of: str | None = None


@dataclass(frozen=True)
class ReceiveRepair(RepairCommand):
    branch_id: str
    condition: Condition


@dataclass(frozen=True)
class StartDiagnosis(RepairCommand):
    technician_id: str


@dataclass(frozen=True)
class QuoteRepair(RepairCommand):
    parts: tuple[QuoteLine, ...]
    labour: int
    currency: str


@dataclass(frozen=True)
class ApproveQuote(RepairCommand):
    account_id: str


@dataclass(frozen=True)
class RejectQuote(RepairCommand):
    account_id: str
    reason: str = ""


@dataclass(frozen=True)
class StartRepair(RepairCommand):
    pass


@dataclass(frozen=True)
class MarkReady(RepairCommand):
    pass


@dataclass(frozen=True)
class ReturnDevice(RepairCommand):
    method: Literal["counter", "shipped"]
    condition: Condition = field(default_factory=Condition)
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass(frozen=True)
class CancelRepair(RepairCommand):
    account_id: str | None
    """Set when the customer cancels (must own the repair); None for staff."""
    reason: str = ""


@dataclass(frozen=True)
class TransferRepair(RepairCommand):
    to_branch_id: str


@dataclass(frozen=True)
class AddPhoto(RepairCommand):
    account_id: str | None
    """Set when the customer adds it (must own the repair); None for staff."""
    file_id: str
    content_type: str
    size: int
    stage: Literal["intake", "receive", "return"]


Command = (
    RegisterRepair
    | ReceiveRepair
    | StartDiagnosis
    | QuoteRepair
    | ApproveQuote
    | RejectQuote
    | StartRepair
    | MarkReady
    | ReturnDevice
    | CancelRepair
    | TransferRepair
    | AddPhoto
)


# --- state ---


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


# --- decide ---


def _require(state: Repair, *allowed: str, action: str) -> None:
    if state.status == "none":
        raise NotFound("repair_not_found", "no such repair")
    if state.status not in allowed:
        raise Conflict(
            "invalid_transition",
            f"cannot {action} a repair that is {state.status}",
            current_status=state.status,
        )


def _owned(state: Repair, account_id: str | None) -> None:
    if state.status == "none" or (account_id is not None and state.account_id != account_id):
        raise NotFound("repair_not_found", "no such repair")


def _base(cmd: Command, state: Repair) -> dict[str, Any]:
    """What every event after the registration carries."""
    return {
        "repair_id": state.repair_id,
        "account_id": state.account_id,
        "actor": cmd.actor,
        "occurred_at": cmd.now,
    }


def decide(cmd: Command, state: Repair) -> Sequence[RepairEvent]:
    match cmd:
        case RegisterRepair():
            return _register_repair(cmd, state)
        case ReceiveRepair():
            return _receive_repair(cmd, state)
        case StartDiagnosis():
            return _start_diagnosis(cmd, state)
        case QuoteRepair():
            return _quote_repair(cmd, state)
        case ApproveQuote():
            return _approve_quote(cmd, state)
        case RejectQuote():
            return _reject_quote(cmd, state)
        case StartRepair():
            return _start_repair(cmd, state)
        case MarkReady():
            return _mark_ready(cmd, state)
        case ReturnDevice():
            return _return_device(cmd, state)
        case CancelRepair():
            return _cancel_repair(cmd, state)
        case TransferRepair():
            return _transfer_repair(cmd, state)
        case AddPhoto():
            return _add_photo(cmd, state)
    raise TypeError(f"unknown command {cmd!r}")


def _register_repair(cmd: RegisterRepair, state: Repair) -> list[RepairEvent]:
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


def _receive_repair(cmd: ReceiveRepair, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _require(state, "registered", action="receive")
    return [
        RepairReceived(
            **{**base, "branch_id": cmd.branch_id},
            condition=cmd.condition,
            condition_corrected=bool(cmd.condition.checklist or cmd.condition.notes),
        )
    ]


def _start_diagnosis(cmd: StartDiagnosis, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _require(state, "received", action="diagnose")
    return [
        RepairDiagnosisStarted(**base, branch_id=state.branch_id, technician_id=cmd.technician_id)
    ]


def _quote_repair(cmd: QuoteRepair, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _require(state, "diagnosing", action="quote")
    if cmd.labour < 0 or any(p.amount < 0 for p in cmd.parts):
        raise DomainError("amount_negative", "quote amounts cannot be negative")
    amount = cmd.labour + sum(p.amount for p in cmd.parts)
    return [
        RepairQuoted(
            **base,
            branch_id=state.branch_id,
            parts=list(cmd.parts),
            labour=cmd.labour,
            amount=amount,
            currency=cmd.currency,
        )
    ]


def _approve_quote(cmd: ApproveQuote, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _owned(state, cmd.account_id)
    _require(state, "quoted", action="approve the quote of")
    assert state.quote_amount is not None and state.currency
    return [
        RepairQuoteApproved(
            **base,
            branch_id=state.branch_id,
            amount=state.quote_amount,
            currency=state.currency,
        )
    ]


def _reject_quote(cmd: RejectQuote, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _owned(state, cmd.account_id)
    _require(state, "quoted", action="reject the quote of")
    return [RepairQuoteRejected(**base, branch_id=state.branch_id, reason=cmd.reason)]


def _start_repair(cmd: StartRepair, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _require(state, "approved", action="start repairing")
    return [RepairStarted(**base, branch_id=state.branch_id)]


def _mark_ready(cmd: MarkReady, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _require(state, "repairing", "rejected", action="mark ready")
    return [RepairReady(**base, branch_id=state.branch_id, repaired=state.status == "repairing")]


def _return_device(cmd: ReturnDevice, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _require(state, "ready", action="return")
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


def _cancel_repair(cmd: CancelRepair, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _owned(state, cmd.account_id)
    _require(state, *CANCELLABLE, action="cancel")
    return [RepairCancelled(**base, branch_id=state.branch_id, reason=cmd.reason)]


def _transfer_repair(cmd: TransferRepair, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _require(
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


def _add_photo(cmd: AddPhoto, state: Repair) -> list[RepairEvent]:
    base = _base(cmd, state)
    _owned(state, cmd.account_id)
    _require(state, *(s for s in STEPS if s != "returned"), "rejected", action="add a photo to")
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


repair_decider: Decider[Command, Repair, RepairEvent] = Decider(
    initial_state=Repair(),
    decide=decide,
    evolve=evolve,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Repair.model_validate,
)
